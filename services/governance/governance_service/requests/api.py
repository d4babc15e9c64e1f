"""HTTP routes of the resident requests (民情实事 · 四单)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

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
from governance_service.requests.service import RequestService
from relocation_shared.deps import AreaQuery, CurrentContext, IdempotentContext, from_state
from relocation_shared.events.requests import RequestState

router = APIRouter(prefix="/api/v1", tags=["民情实事(四单)"])


Service = Annotated[RequestService, from_state("community.requests")]


@router.post("/requests", response_model=ResidentRequest, status_code=201, summary="群众点单")
async def submit_request(body: RequestIn, ctx: IdempotentContext, service: Service) -> ResidentRequest:
    return await service.submit(ctx=ctx, data=body)


@router.get("/requests/{request_id}", response_model=ResidentRequest, summary="查看诉求")
async def get_request(request_id: str, ctx: CurrentContext, service: Service) -> ResidentRequest:
    return await service.get(ctx=ctx, request_id=request_id)


@router.get("/requests", response_model=list[ResidentRequest], summary="区域内的诉求")
async def list_requests(
    area: AreaQuery,
    ctx: CurrentContext,
    service: Service,
    state: RequestState | None = None,
    overdue: bool | None = None,
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ResidentRequest]:
    return await service.list(ctx=ctx, area=area, state=state, overdue=overdue, after=after, limit=limit)


@router.post("/requests/{request_id}/dispatch", response_model=ResidentRequest, summary="社区派单")
async def dispatch_request(request_id: str, body: DispatchIn, ctx: CurrentContext, service: Service) -> ResidentRequest:
    return await service.dispatch(ctx=ctx, request_id=request_id, data=body)


@router.post("/requests/{request_id}/accept", response_model=ResidentRequest, summary="网格员接单")
async def accept_request(request_id: str, ctx: CurrentContext, service: Service) -> ResidentRequest:
    return await service.accept(ctx=ctx, request_id=request_id)


@router.post("/requests/{request_id}/resolve", response_model=ResidentRequest, summary="办结")
async def resolve_request(request_id: str, body: ResolveIn, ctx: CurrentContext, service: Service) -> ResidentRequest:
    return await service.resolve(ctx=ctx, request_id=request_id, data=body)


@router.post("/requests/{request_id}/rate", response_model=ResidentRequest, summary="党组织评单")
async def rate_request(request_id: str, body: RateIn, ctx: CurrentContext, service: Service) -> ResidentRequest:
    return await service.rate(ctx=ctx, request_id=request_id, data=body)


@router.post("/requests/{request_id}/reopen", response_model=ResidentRequest, summary="群众有异议,重新打开")
async def reopen_request(request_id: str, body: ReopenIn, ctx: CurrentContext, service: Service) -> ResidentRequest:
    return await service.reopen(ctx=ctx, request_id=request_id, data=body)


@router.post("/requests/{request_id}/escalate", response_model=ResidentRequest, summary="吹哨:上报县直部门")
async def escalate_request(request_id: str, body: EscalateIn, ctx: CurrentContext, service: Service) -> ResidentRequest:
    return await service.escalate(ctx=ctx, request_id=request_id, data=body)


@router.post("/requests/{request_id}/report", response_model=ResidentRequest, summary="部门报到")
async def report_request(request_id: str, body: ReportIn, ctx: CurrentContext, service: Service) -> ResidentRequest:
    return await service.report(ctx=ctx, request_id=request_id, data=body)
