"""Use cases of door-to-door services (上门服务)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import partial

from governance_service.registry.repository import RegistryStore
from governance_service.staff.domain import Actor, actor_of
from governance_service.staff.scope import household_in_scope, listed_area
from governance_service.visits.domain import Visit as VisitRecord
from governance_service.visits.domain import check_visited_on
from governance_service.visits.models import Visit, VisitIn
from governance_service.visits.repository import VisitsStore
from relocation_shared.auth import Action, Principal
from relocation_shared.clock import Clock
from relocation_shared.context import Context
from relocation_shared.events.community import VisitRecorded
from relocation_shared.idempotency import responding, run_once
from relocation_shared.ids import new_id
from relocation_shared.outbox import Tx, UnitOfWork
from relocation_shared.pii import mask_name, scrub


@dataclass(kw_only=True, eq=False)
class VisitService:
    uow: UnitOfWork
    visits: VisitsStore
    registry: RegistryStore
    clock: Clock

    async def record(self, *, ctx: Context, data: VisitIn) -> Visit:
        ctx.principal.require(Action.VISIT_WRITE)
        actor = actor_of(ctx.principal, Action.VISIT_WRITE)
        now = self.clock()
        check_visited_on(data.visited_on, now)
        body = responding(partial(self._record, ctx.principal, actor, data, now), Visit.of)
        return await run_once(self.uow, ctx=ctx, scope="visits.create", request=data, result_model=Visit, body=body)

    async def _record(self, principal: Principal, actor: Actor, data: VisitIn, now: datetime, tx: Tx) -> VisitRecord:
        household = await household_in_scope(self.registry, principal, data.household_id, tx.session)
        visit = VisitRecord(
            id=new_id(),
            household_id=data.household_id,
            service=data.service,
            description=data.description,
            visited_on=data.visited_on,
            visitor=actor,
            area_path=list(household["area_path"]),
            recorded_at=now,
        )
        await self.visits.insert(visit, tx.session)
        tx.record(
            VisitRecorded(
                visit_id=visit.id,
                household_id=visit.household_id,
                service=visit.service,
                visited_on=visit.visited_on,
                visitor_subject=scrub(actor.subject),
                visitor_role=actor.role,
                visitor_name_masked=mask_name(actor.name or actor.subject),
            ),
            area_path=visit.area_path,
            aggregate_id=visit.household_id,
        )
        return visit

    async def get(self, *, ctx: Context, visit_id: str) -> Visit:
        visit = ctx.principal.found(await self.visits.get(visit_id), "上门服务记录", field="visit_id")
        return Visit.of(visit)

    async def list(
        self, *, ctx: Context, area: str, since: date | None, until: date | None, after: str | None, limit: int
    ) -> list[Visit]:
        await listed_area(self.registry, ctx.principal, area)
        visits = await self.visits.in_area(area, since=since, until=until, after=after, limit=limit)
        return [Visit.of(v) for v in visits]
