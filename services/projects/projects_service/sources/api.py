"""HTTP routes of funding sources and their yearly budgets. Amounts are in fen."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from projects_service.sources.models import BudgetSet, FundingSource, FundingSourceIn
from projects_service.sources.service import SourcesService
from relocation_shared.deps import CurrentContext, IdempotentContext, from_state

Service = Annotated[SourcesService, from_state("sources_service")]

router = APIRouter(prefix="/api/v1", tags=["资金来源"])


@router.post("/funding-sources", response_model=FundingSource, status_code=201, summary="登记资金来源")
async def register_source(body: FundingSourceIn, ctx: IdempotentContext, service: Service) -> FundingSource:
    return await service.register_source(ctx=ctx, data=body)


@router.get("/funding-sources", response_model=list[FundingSource], summary="资金来源与年度预算")
async def list_sources(ctx: CurrentContext, service: Service) -> list[FundingSource]:
    return await service.list_sources(ctx=ctx)


@router.get("/funding-sources/{source_id}", response_model=FundingSource, summary="查看资金来源")
async def get_source(source_id: str, ctx: CurrentContext, service: Service) -> FundingSource:
    return await service.get_source(ctx=ctx, source_id=source_id)


@router.put("/funding-sources/{source_id}/budgets/{year}", response_model=FundingSource, summary="设置年度预算")
async def set_budget(
    source_id: str,
    year: Annotated[int, Path(ge=2000, le=2100)],
    body: BudgetSet,
    ctx: CurrentContext,
    service: Service,
) -> FundingSource:
    return await service.set_budget(ctx=ctx, source_id=source_id, year=year, data=body)
