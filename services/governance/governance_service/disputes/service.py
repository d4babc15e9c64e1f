"""Use cases of dispute mediation: register (parties masked, ID and phone numbers kept only as a
keyed hash), record sessions, conclude. Each command saves the dispute with a compare-and-set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from governance_service.disputes.domain import DisputeCase, DisputeState
from governance_service.disputes.models import Dispute, DisputeIn, DisputePartyIn, OutcomeIn, SessionIn
from governance_service.disputes.repository import DisputesStore
from governance_service.registry.repository import RegistryStore
from governance_service.requests.service import record_events
from governance_service.staff.domain import Actor, actor_of
from governance_service.staff.scope import as_actor, listed_area
from relocation_shared.areas import Level
from relocation_shared.auth import Action, Principal
from relocation_shared.clock import Clock
from relocation_shared.context import Context
from relocation_shared.errors import Conflict, InvalidInput, NotFound
from relocation_shared.idempotency import responding, run_once
from relocation_shared.ids import new_id
from relocation_shared.mongo import Doc
from relocation_shared.outbox import Tx, UnitOfWork
from relocation_shared.pii import keyed_hash, mask_name, mask_phone, parse_national_id

# One command on a loaded dispute: (case, acting person, instant) → case changed.
Apply = Callable[[DisputeCase, Actor, datetime], None]


@dataclass(kw_only=True, eq=False)
class DisputeService:
    uow: UnitOfWork
    disputes: DisputesStore
    registry: RegistryStore
    pii_key: bytes
    deadline_days: int = 30
    clock: Clock

    async def register(self, *, ctx: Context, data: DisputeIn) -> Dispute:
        ctx.principal.require(Action.DISPUTE_WRITE)
        actor = actor_of(ctx.principal, Action.DISPUTE_WRITE)
        body = responding(partial(self._register, data, ctx.principal, actor), Dispute.from_case)
        return await run_once(
            self.uow, ctx=ctx, scope="disputes.register", request=data, result_model=Dispute, body=body
        )

    async def _register(self, data: DisputeIn, principal: Principal, actor: Actor, tx: Tx) -> DisputeCase:
        community = await self._area(data.community_code, tx, level=Level.COMMUNITY, field="community_code")
        principal.require_area(community["path"], field="community_code")
        path = community["path"]
        if data.building_code is not None:
            building = await self._area(data.building_code, tx, level=Level.BUILDING, field="building_code")
            if data.community_code not in building["path"]:
                raise InvalidInput("该楼栋不属于这个社区", field="building_code")
            path = building["path"]
        parties = []
        for i, p in enumerate(data.parties):
            if p.household_id is not None:
                household = await self.registry.get_household(p.household_id, tx.session)
                if household is None or household["community_code"] != data.community_code:
                    raise InvalidInput("该户不存在或不属于这个社区", field=f"parties.{i}.household_id")
            parties.append(self._party(p))
        case = DisputeCase.register(
            dispute_id=new_id(),
            kind=data.kind,
            summary=data.summary,
            community_code=data.community_code,
            building_code=data.building_code,
            area_path=path,
            parties=parties,
            mediator_name=data.mediator_name,
            mediator_subject=data.mediator_subject,
            by=actor,
            now=tx.now,
            due_at=tx.now + timedelta(days=data.due_in_days or self.deadline_days),
        )
        await self.disputes.insert(case, tx.session)
        record_events(tx, case)
        return case

    async def _area(self, code: str, tx: Tx, *, level: Level, field: str) -> Doc:
        doc = await self.registry.get_area(code, tx.session)
        if doc is None or doc["level"] != level:
            raise InvalidInput(f"{level.label}不存在", field=field)
        return doc

    def _party(self, p: DisputePartyIn) -> dict[str, Any]:
        """Names masked; ID and phone numbers only as a keyed hash and a masked form."""
        party: dict[str, Any] = {"name_masked": mask_name(p.name), "role": p.role, "household_id": p.household_id}
        if p.national_id:
            party["national_id_hash"] = keyed_hash(p.national_id, self.pii_key)
            party["national_id_masked"] = parse_national_id(p.national_id).masked
        if p.phone:
            party["phone_hash"] = keyed_hash(p.phone, self.pii_key)
            party["phone_masked"] = mask_phone(p.phone)
        return party

    async def get(self, *, ctx: Context, dispute_id: str) -> Dispute:
        case = ctx.principal.found(await self.disputes.get(dispute_id), "纠纷", field="dispute_id")
        return Dispute.from_case(case)

    async def list(
        self, *, ctx: Context, area: str, state: DisputeState | None, after: str | None, limit: int
    ) -> list[Dispute]:
        await listed_area(self.registry, ctx.principal, area)
        return [Dispute.from_case(c) for c in await self.disputes.in_area(area, state=state, after=after, limit=limit)]

    async def add_session(self, *, ctx: Context, dispute_id: str, data: SessionIn) -> Dispute:
        return await self._command(ctx, dispute_id, partial(_add_session, data))

    async def conclude(self, *, ctx: Context, dispute_id: str, data: OutcomeIn) -> Dispute:
        return await self._command(ctx, dispute_id, partial(_conclude, data))

    async def _command(self, ctx: Context, dispute_id: str, apply: Apply) -> Dispute:
        case = await as_actor(self.uow, ctx, Action.DISPUTE_WRITE, partial(self._run_command, dispute_id, apply))
        return Dispute.from_case(case)

    async def _run_command(
        self, dispute_id: str, apply: Apply, principal: Principal, actor: Actor, tx: Tx
    ) -> DisputeCase:
        case = await self.disputes.get(dispute_id, tx.session)
        if case is None:
            raise NotFound("纠纷不存在", field="dispute_id")
        principal.require_area(case.area_path, field="dispute_id")
        apply(case, actor, tx.now)
        expected, case.version = case.version, case.version + 1
        if not await self.disputes.save(case, expected_version=expected, session=tx.session):
            raise Conflict("该纠纷刚被他人更新,请刷新后重试", field="version")
        record_events(tx, case)
        return case


def _add_session(data: SessionIn, case: DisputeCase, actor: Actor, now: datetime) -> None:
    case.add_session(held_at=data.held_at or now, note=data.note, by=actor, now=now)


def _conclude(data: OutcomeIn, case: DisputeCase, actor: Actor, now: datetime) -> None:
    case.conclude(outcome=data.outcome, referred_to=data.referred_to, note=data.note, by=actor, now=now)
