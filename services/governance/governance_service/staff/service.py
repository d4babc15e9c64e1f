"""Use cases of staffing. Whoever assigns must be responsible for the area above the one
assigned to: a community cadre staffs the grids and buildings of their community, a county
officer the communities of their county."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from governance_service.registry.repository import RegistryStore
from governance_service.staff.domain import StaffMember, StaffRole, assigner_scope, check_role_level, staff_id_for
from governance_service.staff.models import Staff, StaffIn
from governance_service.staff.repository import StaffStore
from governance_service.staff.scope import listed_area, run_command
from relocation_shared.areas import Level
from relocation_shared.auth import Action
from relocation_shared.clock import Clock
from relocation_shared.context import Context
from relocation_shared.errors import InvalidInput, NotFound
from relocation_shared.events.governance import StaffAssigned, StaffUnassigned
from relocation_shared.idempotency import responding, run_once
from relocation_shared.outbox import Tx, UnitOfWork
from relocation_shared.pii import mask_name


@dataclass(kw_only=True, eq=False)
class StaffService:
    uow: UnitOfWork
    staff: StaffStore
    registry: RegistryStore
    clock: Clock

    async def assign(self, *, ctx: Context, data: StaffIn) -> Staff:
        ctx.principal.require(Action.STAFF_WRITE)
        body = responding(partial(self._assign, ctx, data), Staff.model_validate)
        return await run_once(self.uow, ctx=ctx, scope="staff.assign", request=data, result_model=Staff, body=body)

    async def _assign(self, ctx: Context, data: StaffIn, tx: Tx) -> StaffMember:
        area = await self.registry.get_area(data.area_code, tx.session)
        if area is None:
            raise InvalidInput("区域不存在", field="area_code")
        check_role_level(data.role, Level(area["level"]))
        ctx.principal.require_area(assigner_scope(area["path"]), field="area_code")
        existing = await self.staff.get(staff_id_for(data.role, data.area_code, data.subject), tx.session)
        member = StaffMember.assign(
            existing=existing,
            subject=data.subject,
            name=data.name,
            role=data.role,
            area_code=data.area_code,
            area_level=Level(area["level"]),
            area_path=area["path"],
            by=ctx.principal.subject,
            now=tx.now,
        )
        await self.staff.save(member, tx.session)
        tx.record(
            StaffAssigned(
                staff_id=member.id,
                subject=member.subject,
                name_masked=mask_name(member.name),
                role=member.role.value,
                area_code=member.area_code,
                area_level=member.area_level,
            ),
            area_path=member.area_path,
            aggregate_id=member.id,
        )
        return member

    async def unassign(self, *, ctx: Context, staff_id: str) -> Staff:
        member = await run_command(self.uow, ctx, Action.STAFF_WRITE, partial(self._unassign, ctx, staff_id))
        return Staff.model_validate(member)

    async def _unassign(self, ctx: Context, staff_id: str, tx: Tx) -> StaffMember:
        found = await self.staff.get(staff_id, tx.session)
        if found is None:
            raise NotFound("人员不存在", field="staff_id")
        ctx.principal.require_area(assigner_scope(found.area_path), field="staff_id")
        member = found.unassign(by=ctx.principal.subject, now=tx.now)
        await self.staff.save(member, tx.session)
        tx.record(
            StaffUnassigned(
                staff_id=staff_id, subject=member.subject, role=member.role.value, area_code=member.area_code
            ),
            area_path=member.area_path,
            aggregate_id=staff_id,
        )
        return member

    async def get(self, *, ctx: Context, staff_id: str) -> Staff:
        member = ctx.principal.found(await self.staff.get(staff_id), "人员", field="staff_id")
        return Staff.model_validate(member)

    async def list(
        self, *, ctx: Context, area: str, role: StaffRole | None, active_only: bool, limit: int
    ) -> list[Staff]:
        await listed_area(self.registry, ctx.principal, area)
        members = await self.staff.in_area(area, role=role, active_only=active_only, limit=limit)
        return [Staff.model_validate(m) for m in members]
