"""Use cases of the resident requests: 群众点单 → 社区派单 → 网格员接单 → 办结 → 党组织评单, with
吹哨/报到 and reopening. Every command loads the request in a transaction, lets the aggregate
check and apply it, and saves it with a compare-and-set on its version together with the events
it means: of two concurrent accepts exactly one wins, the other gets a 409 naming the state it
now has."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from governance_service.disputes.domain import DisputeCase
from governance_service.party.domain import default_rating_org
from governance_service.party.repository import PartyStore
from governance_service.registry.repository import RegistryStore
from governance_service.requests.deadlines import DeadlinePolicy
from governance_service.requests.domain import RequestCase
from governance_service.requests.models import (
    DispatchIn,
    EscalateIn,
    RateIn,
    ReopenIn,
    ReportIn,
    RequestIn,
    ResidentRequest,
    ResolveIn,
)
from governance_service.requests.repository import RequestsStore
from governance_service.requests.transitions import Command
from governance_service.requests.values import Assignee
from governance_service.staff.domain import Actor, StaffRole, actor_of, staff_id_for
from governance_service.staff.repository import StaffStore
from governance_service.staff.scope import as_actor, listed_area
from relocation_shared.areas import Level
from relocation_shared.auth import Action, Principal
from relocation_shared.clock import Clock
from relocation_shared.context import Context
from relocation_shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from relocation_shared.events.requests import REQUEST_STATE_LABELS, RequestState
from relocation_shared.idempotency import responding, run_once
from relocation_shared.ids import new_id
from relocation_shared.outbox import Tx, UnitOfWork

# One command on a loaded request: (transaction, case, acting person, instant) → case changed.
Apply = Callable[[Tx, RequestCase, Actor, datetime], Awaitable[None]]


def record_events(tx: Tx, case: RequestCase | DisputeCase) -> None:
    """The events a request's or a dispute's commands meant, into the transaction's outbox (the
    disputes' commands and the deadline scheduler record theirs with it too)."""
    for event in case.events:
        tx.record(event, area_path=case.area_path, aggregate_id=case.id)


@dataclass(kw_only=True, eq=False)
class RequestService:
    uow: UnitOfWork
    requests: RequestsStore
    staff: StaffStore
    party: PartyStore
    registry: RegistryStore
    policy: DeadlinePolicy
    clock: Clock

    # --- 群众点单 and reading ---------------------------------------------------------------
    async def submit(self, *, ctx: Context, data: RequestIn) -> ResidentRequest:
        ctx.principal.require(Action.REQUEST_SUBMIT)
        actor = actor_of(ctx.principal, Action.REQUEST_SUBMIT)
        body = responding(partial(self._submit, data, ctx.principal, actor), ResidentRequest.from_case)
        return await run_once(
            self.uow, ctx=ctx, scope="requests.submit", request=data, result_model=ResidentRequest, body=body
        )

    async def _submit(self, data: RequestIn, principal: Principal, actor: Actor, tx: Tx) -> RequestCase:
        building = await self.registry.get_area(data.building_code, tx.session)
        if building is None or building["level"] != Level.BUILDING:
            raise InvalidInput(f"{Level.BUILDING.label}不存在", field="building_code")
        principal.require_area(building["path"], field="building_code")
        if data.household_id is not None:
            household = await self.registry.get_household(data.household_id, tx.session)
            if household is None:
                raise NotFound("该户不存在", field="household_id")
            if household["building_code"] != data.building_code:
                raise InvalidInput("该户不住在这个楼栋", field="household_id")
        case = RequestCase.submit(
            request_id=new_id(),
            category=data.category,
            urgency=data.urgency,
            source=data.source,
            description=data.description,
            household_id=data.household_id,
            building_path=building["path"],
            by=actor,
            now=tx.now,
            policy=self.policy,
        )
        await self.requests.insert(case, tx.session)
        record_events(tx, case)
        return case

    async def get(self, *, ctx: Context, request_id: str) -> ResidentRequest:
        case = ctx.principal.found(await self.requests.get(request_id), "诉求", field="request_id")
        return ResidentRequest.from_case(case)

    async def list(
        self,
        *,
        ctx: Context,
        area: str,
        state: RequestState | None,
        overdue: bool | None,
        after: str | None,
        limit: int,
    ) -> list[ResidentRequest]:
        await listed_area(self.registry, ctx.principal, area)
        cases = await self.requests.in_area(area, state=state, overdue=overdue, after=after, limit=limit)
        return [ResidentRequest.from_case(c) for c in cases]

    # --- the commands ----------------------------------------------------------------------
    async def dispatch(self, *, ctx: Context, request_id: str, data: DispatchIn) -> ResidentRequest:
        return await self._command(ctx, request_id, Action.REQUEST_DISPATCH, partial(self._dispatch, data))

    async def accept(self, *, ctx: Context, request_id: str) -> ResidentRequest:
        return await self._command(ctx, request_id, Action.REQUEST_HANDLE, partial(self._accept, ctx.principal))

    async def resolve(self, *, ctx: Context, request_id: str, data: ResolveIn) -> ResidentRequest:
        return await self._command(ctx, request_id, Action.REQUEST_HANDLE, partial(self._resolve, ctx.principal, data))

    async def rate(self, *, ctx: Context, request_id: str, data: RateIn) -> ResidentRequest:
        return await self._command(ctx, request_id, Action.REQUEST_RATE, partial(self._rate, data))

    async def reopen(self, *, ctx: Context, request_id: str, data: ReopenIn) -> ResidentRequest:
        return await self._command(ctx, request_id, Action.REQUEST_REOPEN, partial(self._reopen, data))

    async def escalate(self, *, ctx: Context, request_id: str, data: EscalateIn) -> ResidentRequest:
        return await self._command(ctx, request_id, Action.REQUEST_ESCALATE, partial(self._escalate, data))

    async def report(self, *, ctx: Context, request_id: str, data: ReportIn) -> ResidentRequest:
        return await self._command(ctx, request_id, Action.REQUEST_REPORT, partial(self._report, data))

    async def _command(self, ctx: Context, request_id: str, action: Action, apply: Apply) -> ResidentRequest:
        case = await as_actor(self.uow, ctx, action, partial(self._run_command, request_id, apply))
        return ResidentRequest.from_case(case)

    async def _run_command(
        self, request_id: str, apply: Apply, principal: Principal, actor: Actor, tx: Tx
    ) -> RequestCase:
        """Load, apply, compare-and-set, record: the one transaction body of every command."""
        case = await self.requests.get(request_id, tx.session)
        if case is None:
            raise NotFound("诉求不存在", field="request_id")
        principal.require_area(case.area_path, field="request_id")
        await apply(tx, case, actor, tx.now)
        expected, case.version = case.version, case.version + 1
        if not await self.requests.save(case, expected_version=expected, session=tx.session):
            current = await self.requests.get(request_id, tx.session)
            state = current.state if current else case.state
            raise Conflict(
                f"该诉求刚被他人更新(当前状态为「{REQUEST_STATE_LABELS[state]}」),请刷新后重试",
                field="version",
                state=state.value,
            )
        record_events(tx, case)
        return case

    async def _dispatch(self, data: DispatchIn, tx: Tx, case: RequestCase, actor: Actor, now: datetime) -> None:
        case.check(Command.DISPATCH)
        staff = await self.staff.get(data.staff_id, tx.session)
        if staff is None or not staff.is_grid_worker_of(case.grid_code):
            raise InvalidInput("只能派给该诉求所在网格的在岗网格员", field="staff_id")
        assignee = Assignee(staff_id=staff.id, subject=staff.subject, name=staff.name)
        case.dispatch(assignee=assignee, by=actor, now=now, policy=self.policy)

    async def _require_grid_worker(self, principal: Principal, case: RequestCase, tx: Tx) -> None:
        staff = await self.staff.get(staff_id_for(StaffRole.GRID_WORKER, case.grid_code, principal.subject), tx.session)
        if staff is None or not staff.active:
            raise Forbidden("您不是该诉求所在网格的网格员", field="request_id")

    async def _accept(self, principal: Principal, tx: Tx, case: RequestCase, actor: Actor, now: datetime) -> None:
        await self._require_grid_worker(principal, case, tx)
        case.accept(by=actor, now=now, policy=self.policy)

    async def _resolve(
        self, principal: Principal, data: ResolveIn, tx: Tx, case: RequestCase, actor: Actor, now: datetime
    ) -> None:
        await self._require_grid_worker(principal, case, tx)
        case.resolve(summary=data.summary, by=actor, now=now, policy=self.policy)

    async def _rate(self, data: RateIn, tx: Tx, case: RequestCase, actor: Actor, now: datetime) -> None:
        case.check(Command.RATE)
        org_id = await self._rating_org(case, data.party_org_id, tx)
        case.rate(score=data.score, comment=data.comment, party_org_id=org_id, by=actor, now=now)

    async def _rating_org(self, case: RequestCase, party_org_id: str | None, tx: Tx) -> str | None:
        """The party organisation on whose behalf the rating is made: the one named (of the
        request's community), else the community's default (see party.domain)."""
        if party_org_id is not None:
            org = await self.party.get(party_org_id, tx.session)
            if org is None or org.community_code != case.community_code:
                raise InvalidInput("党组织不存在或不属于该诉求所在社区", field="party_org_id")
            return party_org_id
        return default_rating_org(await self.party.in_community(case.community_code, tx.session))

    async def _reopen(self, data: ReopenIn, _tx: Tx, case: RequestCase, actor: Actor, now: datetime) -> None:
        case.reopen(reason=data.reason, by=actor, now=now, policy=self.policy)

    async def _escalate(self, data: EscalateIn, _tx: Tx, case: RequestCase, actor: Actor, now: datetime) -> None:
        case.escalate(department=data.department, reason=data.reason, by=actor, now=now, policy=self.policy)

    async def _report(self, data: ReportIn, _tx: Tx, case: RequestCase, actor: Actor, now: datetime) -> None:
        case.report(note=data.note, by=actor, now=now)
