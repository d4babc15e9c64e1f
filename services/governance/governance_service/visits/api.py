"""HTTP routes of door-to-door services (上门服务)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from governance_service.visits.models import Visit, VisitIn
from governance_service.visits.service import VisitService
from relocation_shared.deps import AreaQuery, CurrentContext, IdempotentContext, from_state

router = APIRouter(prefix="/api/v1", tags=["上门服务"])


Service = Annotated[VisitService, from_state("community.visits")]


@router.post("/visits", response_model=Visit, status_code=201, summary="登记上门服务")
async def record_visit(body: VisitIn, ctx: IdempotentContext, service: Service) -> Visit:
    return await service.record(ctx=ctx, data=body)


@router.get("/visits/{visit_id}", response_model=Visit, summary="查看上门服务")
async def get_visit(visit_id: str, ctx: CurrentContext, service: Service) -> Visit:
    return await service.get(ctx=ctx, visit_id=visit_id)


@router.get("/visits", response_model=list[Visit], summary="区域内的上门服务")
async def list_visits(
    area: AreaQuery,
    ctx: CurrentContext,
    service: Service,
    since: date | None = None,
    until: date | None = None,
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Visit]:
    return await service.list(ctx=ctx, area=area, since=since, until=until, after=after, limit=limit)
