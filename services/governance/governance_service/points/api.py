"""HTTP routes of the points supermarket (积分超市)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from governance_service.points.models import AwardIn, PointsAccount, PointsEntry, RedeemIn
from governance_service.points.service import PointsService
from relocation_shared.deps import CurrentContext, IdempotentContext, from_state

router = APIRouter(prefix="/api/v1", tags=["积分超市"])


Service = Annotated[PointsService, from_state("community.points")]


@router.post("/points/awards", response_model=PointsEntry, status_code=201, summary="奖励积分")
async def award_points(body: AwardIn, ctx: IdempotentContext, service: Service) -> PointsEntry:
    return await service.award(ctx=ctx, data=body)


@router.post("/points/redemptions", response_model=PointsEntry, status_code=201, summary="积分兑换")
async def redeem_points(body: RedeemIn, ctx: IdempotentContext, service: Service) -> PointsEntry:
    return await service.redeem(ctx=ctx, data=body)


@router.get("/households/{household_id}/points", response_model=PointsAccount, summary="该户积分及明细")
async def points_account(household_id: str, ctx: CurrentContext, service: Service) -> PointsAccount:
    return await service.account(ctx=ctx, household_id=household_id)
