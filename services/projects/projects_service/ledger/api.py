"""HTTP routes of the ledger: disbursements, dividends, collective income and assets, the
entries and their reversal. Amounts are in fen. Tags are per route, as the API documents them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from projects_service.ledger.collective import CollectiveService
from projects_service.ledger.models import (
    CollectiveAssetIn,
    CollectiveIncomeIn,
    DisbursementIn,
    DividendIn,
    LedgerEntry,
    ReversalIn,
)
from projects_service.ledger.reversal import ReversalService
from projects_service.ledger.service import LedgerService
from relocation_shared.batch import BatchIn, BatchResult
from relocation_shared.deps import CurrentContext, IdempotentContext, from_state

Service = Annotated[LedgerService, from_state("ledger_service")]
Collective = Annotated[CollectiveService, from_state("collective_service")]
Reversals = Annotated[ReversalService, from_state("reversal_service")]

router = APIRouter(prefix="/api/v1", tags=[])


@router.post(
    "/projects/{project_id}/disbursements",
    response_model=LedgerEntry,
    status_code=201,
    tags=["资金"],
    summary="拨付资金",
)
async def disburse(project_id: str, body: DisbursementIn, ctx: IdempotentContext, service: Service) -> LedgerEntry:
    return await service.disburse(ctx=ctx, project_id=project_id, data=body)


@router.post("/disbursements/batch", response_model=BatchResult, tags=["资金"], summary="批量拨付资金")
async def disburse_batch(body: BatchIn, ctx: IdempotentContext, service: Service) -> BatchResult:
    return await service.disburse_batch(ctx=ctx, rows=body.items)


@router.post(
    "/projects/{project_id}/dividends", response_model=LedgerEntry, status_code=201, tags=["分红"], summary="项目分红"
)
async def pay_dividend(project_id: str, body: DividendIn, ctx: IdempotentContext, service: Service) -> LedgerEntry:
    return await service.pay_dividend(ctx=ctx, project_id=project_id, data=body)


@router.post("/dividends/batch", response_model=BatchResult, tags=["分红"], summary="批量分红")
async def pay_dividends_batch(body: BatchIn, ctx: IdempotentContext, service: Service) -> BatchResult:
    return await service.pay_dividends_batch(ctx=ctx, rows=body.items)


@router.post(
    "/communities/{community_code}/collective-income",
    response_model=LedgerEntry,
    status_code=201,
    tags=["集体经济"],
    summary="登记集体经济收入",
)
async def record_collective_income(
    community_code: str, body: CollectiveIncomeIn, ctx: IdempotentContext, service: Collective
) -> LedgerEntry:
    return await service.record_collective_income(ctx=ctx, community_code=community_code, data=body)


@router.post(
    "/communities/{community_code}/collective-assets",
    response_model=LedgerEntry,
    status_code=201,
    tags=["集体经济"],
    summary="登记集体资产",
)
async def record_collective_asset(
    community_code: str, body: CollectiveAssetIn, ctx: IdempotentContext, service: Collective
) -> LedgerEntry:
    return await service.record_collective_asset(ctx=ctx, community_code=community_code, data=body)


@router.get("/ledger", response_model=list[LedgerEntry], tags=["台账"], summary="资金台账(按项目或社区)")
async def list_entries(
    ctx: CurrentContext,
    service: Service,
    project_id: Annotated[str | None, Query(max_length=64)] = None,
    community_code: Annotated[str | None, Query(max_length=12)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[LedgerEntry]:
    return await service.list_entries(ctx=ctx, project_id=project_id, community_code=community_code, limit=limit)


@router.get("/ledger/{entry_id}", response_model=LedgerEntry, tags=["台账"], summary="查看台账记录")
async def get_entry(entry_id: str, ctx: CurrentContext, service: Service) -> LedgerEntry:
    return await service.get_entry(ctx=ctx, entry_id=entry_id)


@router.post(
    "/ledger/{entry_id}/reversal", response_model=LedgerEntry, status_code=201, tags=["台账"], summary="冲正(红字更正)"
)
async def reverse(entry_id: str, body: ReversalIn, ctx: IdempotentContext, service: Reversals) -> LedgerEntry:
    return await service.reverse(ctx=ctx, entry_id=entry_id, data=body)
