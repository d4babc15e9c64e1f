"""HTTP routes of staffing (网格力量)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from governance_service.staff.domain import StaffRole
from governance_service.staff.models import Staff, StaffIn
from governance_service.staff.service import StaffService
from relocation_shared.deps import AreaQuery, CurrentContext, IdempotentContext, from_state

router = APIRouter(prefix="/api/v1", tags=["网格力量"])


Service = Annotated[StaffService, from_state("community.staff")]


@router.post("/staff", response_model=Staff, status_code=201, summary="分配网格员、楼栋长、社区干部")
async def assign_staff(body: StaffIn, ctx: IdempotentContext, service: Service) -> Staff:
    return await service.assign(ctx=ctx, data=body)


@router.post("/staff/{staff_id}/unassign", response_model=Staff, summary="解除分配")
async def unassign_staff(staff_id: str, ctx: CurrentContext, service: Service) -> Staff:
    return await service.unassign(ctx=ctx, staff_id=staff_id)


@router.get("/staff/{staff_id}", response_model=Staff, summary="查看人员")
async def get_staff(staff_id: str, ctx: CurrentContext, service: Service) -> Staff:
    return await service.get(ctx=ctx, staff_id=staff_id)


@router.get("/staff", response_model=list[Staff], summary="区域内的人员")
async def list_staff(
    area: AreaQuery,
    ctx: CurrentContext,
    service: Service,
    role: StaffRole | None = None,
    active_only: bool = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[Staff]:
    return await service.list(ctx=ctx, area=area, role=role, active_only=active_only, limit=limit)
