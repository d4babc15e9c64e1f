"""HTTP routes of the registry and the community work: thin, every rule lives in service.py."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from governance_service.models import (
    Area,
    AreaIn,
    AwardIn,
    DispatchIn,
    Dispute,
    DisputeIn,
    DisputeState,
    EscalateIn,
    Household,
    HouseholdIn,
    MoveOut,
    OutcomeIn,
    PartyOrg,
    PartyOrgIn,
    PointsAccount,
    PointsEntry,
    RateIn,
    RedeemIn,
    ReopenIn,
    ReportIn,
    RequestIn,
    Resident,
    ResidentIn,
    ResidentRequest,
    ResidentUpdate,
    ResolveIn,
    SessionIn,
    Staff,
    StaffIn,
    StaffRole,
    Visit,
    VisitIn,
)
from governance_service.service import CommunityServices, GovernanceService
from relocation_shared.auth import CurrentPrincipal
from relocation_shared.batch import BatchIn, BatchResult
from relocation_shared.events.community import RequestState


def get_service(request: Request) -> GovernanceService:
    service: GovernanceService = request.app.state.service
    return service


def correlation(request: Request) -> str | None:
    return request.headers.get("x-request-id")


Service = Annotated[GovernanceService, Depends(get_service)]
Correlation = Annotated[str | None, Depends(correlation)]

router = APIRouter(prefix="/api/v1")


@router.get("/areas/{code}", response_model=Area, tags=["区域"], summary="查看区域")
async def get_area(code: str, principal: CurrentPrincipal, service: Service) -> Area:
    return await service.get_area(principal=principal, code=code)


@router.get("/areas", response_model=list[Area], tags=["区域"], summary="下级区域")
async def list_areas(
    parent: Annotated[str, Query(max_length=30)], principal: CurrentPrincipal, service: Service
) -> list[Area]:
    return await service.list_children(principal=principal, parent=parent)


@router.post("/areas", response_model=Area, status_code=201, tags=["区域"], summary="新建镇街、社区、网格或楼栋")
async def create_area(body: AreaIn, principal: CurrentPrincipal, service: Service, cid: Correlation) -> Area:
    return await service.create_area(principal=principal, data=body, correlation_id=cid)


@router.post("/households", response_model=Household, status_code=201, tags=["搬迁户"], summary="登记搬迁户")
async def register_household(
    body: HouseholdIn, principal: CurrentPrincipal, service: Service, cid: Correlation
) -> Household:
    return await service.register_household(principal=principal, data=body, correlation_id=cid)


@router.post("/households/batch", response_model=BatchResult, tags=["搬迁户"], summary="批量登记搬迁户")
async def register_households(
    body: BatchIn, principal: CurrentPrincipal, service: Service, cid: Correlation
) -> BatchResult:
    return await service.register_households_batch(principal=principal, rows=body.items, correlation_id=cid)


@router.get("/households/{household_id}", response_model=Household, tags=["搬迁户"], summary="查看搬迁户及成员")
async def get_household(household_id: str, principal: CurrentPrincipal, service: Service) -> Household:
    return await service.get_household(principal=principal, household_id=household_id)


@router.get("/households", response_model=list[Household], tags=["搬迁户"], summary="区域内的搬迁户")
async def list_households(
    principal: CurrentPrincipal,
    service: Service,
    area: Annotated[str, Query(max_length=30)],
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Household]:
    return await service.list_households(principal=principal, area=area, after=after, limit=limit)


@router.post("/residents", response_model=Resident, status_code=201, tags=["居民"], summary="登记居民")
async def register_resident(
    body: ResidentIn, principal: CurrentPrincipal, service: Service, cid: Correlation
) -> Resident:
    return await service.register_resident(principal=principal, data=body, correlation_id=cid)


@router.post("/residents/batch", response_model=BatchResult, tags=["居民"], summary="批量登记居民")
async def register_residents(
    body: BatchIn, principal: CurrentPrincipal, service: Service, cid: Correlation
) -> BatchResult:
    return await service.register_residents_batch(principal=principal, rows=body.items, correlation_id=cid)


@router.get("/residents/{resident_id}", response_model=Resident, tags=["居民"], summary="查看居民")
async def get_resident(resident_id: str, principal: CurrentPrincipal, service: Service) -> Resident:
    return await service.get_resident(principal=principal, resident_id=resident_id)


@router.patch("/residents/{resident_id}", response_model=Resident, tags=["居民"], summary="更新劳动能力")
async def update_resident(
    resident_id: str, body: ResidentUpdate, principal: CurrentPrincipal, service: Service, cid: Correlation
) -> Resident:
    return await service.update_resident(principal=principal, resident_id=resident_id, data=body, correlation_id=cid)


@router.post("/residents/{resident_id}/move-out", response_model=Resident, tags=["居民"], summary="迁出")
async def move_out(
    resident_id: str, body: MoveOut, principal: CurrentPrincipal, service: Service, cid: Correlation
) -> Resident:
    return await service.move_out(principal=principal, resident_id=resident_id, data=body, correlation_id=cid)


# =============================================================================================
# Community work


def get_community(request: Request) -> CommunityServices:
    community: CommunityServices = request.app.state.community
    return community


Community = Annotated[CommunityServices, Depends(get_community)]
Area_ = Annotated[str, Query(max_length=30, description="区域代码")]
After = Annotated[str | None, Query(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=500)]


# --- staffing ------------------------------------------------------------------------------------


@router.post("/staff", response_model=Staff, status_code=201, tags=["网格力量"], summary="分配网格员、楼栋长、社区干部")
async def assign_staff(body: StaffIn, principal: CurrentPrincipal, c: Community, cid: Correlation) -> Staff:
    return await c.staff.assign(principal=principal, data=body, correlation_id=cid)


@router.post("/staff/{staff_id}/unassign", response_model=Staff, tags=["网格力量"], summary="解除分配")
async def unassign_staff(staff_id: str, principal: CurrentPrincipal, c: Community, cid: Correlation) -> Staff:
    return await c.staff.unassign(principal=principal, staff_id=staff_id, correlation_id=cid)


@router.get("/staff/{staff_id}", response_model=Staff, tags=["网格力量"], summary="查看人员")
async def get_staff(staff_id: str, principal: CurrentPrincipal, c: Community) -> Staff:
    return await c.staff.get(principal=principal, staff_id=staff_id)


@router.get("/staff", response_model=list[Staff], tags=["网格力量"], summary="区域内的人员")
async def list_staff(
    area: Area_,
    principal: CurrentPrincipal,
    c: Community,
    role: StaffRole | None = None,
    active_only: bool = True,
    limit: Limit = 200,
) -> list[Staff]:
    return await c.staff.list(principal=principal, area=area, role=role, active_only=active_only, limit=limit)


# --- party organisations -------------------------------------------------------------------------


@router.post(
    "/party-organisations",
    response_model=PartyOrg,
    status_code=201,
    tags=["党组织"],
    summary="登记党总支、党支部、党小组",
)
async def register_party_org(body: PartyOrgIn, principal: CurrentPrincipal, c: Community, cid: Correlation) -> PartyOrg:
    return await c.party.register(principal=principal, data=body, correlation_id=cid)


@router.get("/party-organisations", response_model=list[PartyOrg], tags=["党组织"], summary="社区的党组织")
async def list_party_orgs(community: Area_, principal: CurrentPrincipal, c: Community) -> list[PartyOrg]:
    return await c.party.list(principal=principal, community=community)


# --- resident requests (四单) ---------------------------------------------------------------------


@router.post("/requests", response_model=ResidentRequest, status_code=201, tags=["民情实事(四单)"], summary="群众点单")
async def submit_request(
    body: RequestIn, principal: CurrentPrincipal, c: Community, cid: Correlation
) -> ResidentRequest:
    return await c.requests.submit(principal=principal, data=body, correlation_id=cid)


@router.get("/requests/{request_id}", response_model=ResidentRequest, tags=["民情实事(四单)"], summary="查看诉求")
async def get_request(request_id: str, principal: CurrentPrincipal, c: Community) -> ResidentRequest:
    return await c.requests.get(principal=principal, request_id=request_id)


@router.get("/requests", response_model=list[ResidentRequest], tags=["民情实事(四单)"], summary="区域内的诉求")
async def list_requests(
    area: Area_,
    principal: CurrentPrincipal,
    c: Community,
    state: RequestState | None = None,
    overdue: bool | None = None,
    after: After = None,
    limit: Limit = 100,
) -> list[ResidentRequest]:
    return await c.requests.list(principal=principal, area=area, state=state, overdue=overdue, after=after, limit=limit)


@router.post(
    "/requests/{request_id}/dispatch", response_model=ResidentRequest, tags=["民情实事(四单)"], summary="社区派单"
)
async def dispatch_request(
    request_id: str, body: DispatchIn, principal: CurrentPrincipal, c: Community, cid: Correlation
) -> ResidentRequest:
    return await c.requests.dispatch(principal=principal, request_id=request_id, data=body, correlation_id=cid)


@router.post(
    "/requests/{request_id}/accept", response_model=ResidentRequest, tags=["民情实事(四单)"], summary="网格员接单"
)
async def accept_request(
    request_id: str, principal: CurrentPrincipal, c: Community, cid: Correlation
) -> ResidentRequest:
    return await c.requests.accept(principal=principal, request_id=request_id, correlation_id=cid)


@router.post("/requests/{request_id}/resolve", response_model=ResidentRequest, tags=["民情实事(四单)"], summary="办结")
async def resolve_request(
    request_id: str, body: ResolveIn, principal: CurrentPrincipal, c: Community, cid: Correlation
) -> ResidentRequest:
    return await c.requests.resolve(principal=principal, request_id=request_id, data=body, correlation_id=cid)


@router.post(
    "/requests/{request_id}/rate", response_model=ResidentRequest, tags=["民情实事(四单)"], summary="党组织评单"
)
async def rate_request(
    request_id: str, body: RateIn, principal: CurrentPrincipal, c: Community, cid: Correlation
) -> ResidentRequest:
    return await c.requests.rate(principal=principal, request_id=request_id, data=body, correlation_id=cid)


@router.post(
    "/requests/{request_id}/reopen",
    response_model=ResidentRequest,
    tags=["民情实事(四单)"],
    summary="群众有异议,重新打开",
)
async def reopen_request(
    request_id: str, body: ReopenIn, principal: CurrentPrincipal, c: Community, cid: Correlation
) -> ResidentRequest:
    return await c.requests.reopen(principal=principal, request_id=request_id, data=body, correlation_id=cid)


@router.post(
    "/requests/{request_id}/escalate",
    response_model=ResidentRequest,
    tags=["民情实事(四单)"],
    summary="吹哨:上报县直部门",
)
async def escalate_request(
    request_id: str, body: EscalateIn, principal: CurrentPrincipal, c: Community, cid: Correlation
) -> ResidentRequest:
    return await c.requests.escalate(principal=principal, request_id=request_id, data=body, correlation_id=cid)


@router.post(
    "/requests/{request_id}/report", response_model=ResidentRequest, tags=["民情实事(四单)"], summary="部门报到"
)
async def report_request(
    request_id: str, body: ReportIn, principal: CurrentPrincipal, c: Community, cid: Correlation
) -> ResidentRequest:
    return await c.requests.report(principal=principal, request_id=request_id, data=body, correlation_id=cid)


# --- disputes (矛盾纠纷调解) ------------------------------------------------------------------------


@router.post("/disputes", response_model=Dispute, status_code=201, tags=["矛盾纠纷调解"], summary="登记矛盾纠纷")
async def register_dispute(body: DisputeIn, principal: CurrentPrincipal, c: Community, cid: Correlation) -> Dispute:
    return await c.disputes.register(principal=principal, data=body, correlation_id=cid)


@router.get("/disputes/{dispute_id}", response_model=Dispute, tags=["矛盾纠纷调解"], summary="查看纠纷")
async def get_dispute(dispute_id: str, principal: CurrentPrincipal, c: Community) -> Dispute:
    return await c.disputes.get(principal=principal, dispute_id=dispute_id)


@router.get("/disputes", response_model=list[Dispute], tags=["矛盾纠纷调解"], summary="区域内的纠纷")
async def list_disputes(
    area: Area_,
    principal: CurrentPrincipal,
    c: Community,
    state: DisputeState | None = None,
    after: After = None,
    limit: Limit = 100,
) -> list[Dispute]:
    return await c.disputes.list(principal=principal, area=area, state=state, after=after, limit=limit)


@router.post("/disputes/{dispute_id}/sessions", response_model=Dispute, tags=["矛盾纠纷调解"], summary="记录调解")
async def add_dispute_session(
    dispute_id: str, body: SessionIn, principal: CurrentPrincipal, c: Community, cid: Correlation
) -> Dispute:
    return await c.disputes.add_session(principal=principal, dispute_id=dispute_id, data=body, correlation_id=cid)


@router.post("/disputes/{dispute_id}/outcome", response_model=Dispute, tags=["矛盾纠纷调解"], summary="登记调解结果")
async def conclude_dispute(
    dispute_id: str, body: OutcomeIn, principal: CurrentPrincipal, c: Community, cid: Correlation
) -> Dispute:
    return await c.disputes.conclude(principal=principal, dispute_id=dispute_id, data=body, correlation_id=cid)


# --- door-to-door services (上门服务) ---------------------------------------------------------------


@router.post("/visits", response_model=Visit, status_code=201, tags=["上门服务"], summary="登记上门服务")
async def record_visit(body: VisitIn, principal: CurrentPrincipal, c: Community, cid: Correlation) -> Visit:
    return await c.visits.record(principal=principal, data=body, correlation_id=cid)


@router.get("/visits/{visit_id}", response_model=Visit, tags=["上门服务"], summary="查看上门服务")
async def get_visit(visit_id: str, principal: CurrentPrincipal, c: Community) -> Visit:
    return await c.visits.get(principal=principal, visit_id=visit_id)


@router.get("/visits", response_model=list[Visit], tags=["上门服务"], summary="区域内的上门服务")
async def list_visits(
    area: Area_,
    principal: CurrentPrincipal,
    c: Community,
    since: date | None = None,
    until: date | None = None,
    after: After = None,
    limit: Limit = 100,
) -> list[Visit]:
    return await c.visits.list(principal=principal, area=area, since=since, until=until, after=after, limit=limit)


# --- the points supermarket (积分超市) --------------------------------------------------------------


@router.post("/points/awards", response_model=PointsEntry, status_code=201, tags=["积分超市"], summary="奖励积分")
async def award_points(body: AwardIn, principal: CurrentPrincipal, c: Community, cid: Correlation) -> PointsEntry:
    return await c.points.award(principal=principal, data=body, correlation_id=cid)


@router.post("/points/redemptions", response_model=PointsEntry, status_code=201, tags=["积分超市"], summary="积分兑换")
async def redeem_points(body: RedeemIn, principal: CurrentPrincipal, c: Community, cid: Correlation) -> PointsEntry:
    return await c.points.redeem(principal=principal, data=body, correlation_id=cid)


@router.get(
    "/households/{household_id}/points", response_model=PointsAccount, tags=["积分超市"], summary="该户积分及明细"
)
async def points_account(household_id: str, principal: CurrentPrincipal, c: Community) -> PointsAccount:
    return await c.points.account(principal=principal, household_id=household_id)
