"""HTTP routes of dispute mediation (矛盾纠纷调解)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from governance_service.disputes.domain import DisputeState
from governance_service.disputes.models import Dispute, DisputeIn, OutcomeIn, SessionIn
from governance_service.disputes.service import DisputeService
from relocation_shared.deps import AreaQuery, CurrentContext, IdempotentContext, from_state

router = APIRouter(prefix="/api/v1", tags=["矛盾纠纷调解"])


Service = Annotated[DisputeService, from_state("community.disputes")]


@router.post("/disputes", response_model=Dispute, status_code=201, summary="登记矛盾纠纷")
async def register_dispute(body: DisputeIn, ctx: IdempotentContext, service: Service) -> Dispute:
    return await service.register(ctx=ctx, data=body)


@router.get("/disputes/{dispute_id}", response_model=Dispute, summary="查看纠纷")
async def get_dispute(dispute_id: str, ctx: CurrentContext, service: Service) -> Dispute:
    return await service.get(ctx=ctx, dispute_id=dispute_id)


@router.get("/disputes", response_model=list[Dispute], summary="区域内的纠纷")
async def list_disputes(
    area: AreaQuery,
    ctx: CurrentContext,
    service: Service,
    state: DisputeState | None = None,
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Dispute]:
    return await service.list(ctx=ctx, area=area, state=state, after=after, limit=limit)


@router.post("/disputes/{dispute_id}/sessions", response_model=Dispute, summary="记录调解")
async def add_dispute_session(dispute_id: str, body: SessionIn, ctx: CurrentContext, service: Service) -> Dispute:
    return await service.add_session(ctx=ctx, dispute_id=dispute_id, data=body)


@router.post("/disputes/{dispute_id}/outcome", response_model=Dispute, summary="登记调解结果")
async def conclude_dispute(dispute_id: str, body: OutcomeIn, ctx: CurrentContext, service: Service) -> Dispute:
    return await service.conclude(ctx=ctx, dispute_id=dispute_id, data=body)
