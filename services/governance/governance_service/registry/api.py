"""HTTP routes of the registry (areas, households, residents): thin, every rule lives in
domain.py and service.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from governance_service.registry.models import (
    Area,
    AreaIn,
    Household,
    HouseholdIn,
    MoveOut,
    Resident,
    ResidentIn,
    ResidentUpdate,
)
from governance_service.registry.service import RegistryService
from relocation_shared.batch import BatchIn, BatchResult
from relocation_shared.deps import CurrentContext, IdempotentContext, from_state

Registry = Annotated[RegistryService, from_state("service")]

router = APIRouter(prefix="/api/v1")


@router.get("/areas/{code}", response_model=Area, tags=["区域"], summary="查看区域")
async def get_area(code: str, ctx: CurrentContext, service: Registry) -> Area:
    return await service.get_area(ctx=ctx, code=code)


@router.get("/areas", response_model=list[Area], tags=["区域"], summary="下级区域")
async def list_areas(
    parent: Annotated[str, Query(max_length=30)], ctx: CurrentContext, service: Registry
) -> list[Area]:
    return await service.list_children(ctx=ctx, parent=parent)


@router.post("/areas", response_model=Area, status_code=201, tags=["区域"], summary="新建镇街、社区、网格或楼栋")
async def create_area(body: AreaIn, ctx: IdempotentContext, service: Registry) -> Area:
    return await service.create_area(ctx=ctx, data=body)


@router.post("/households", response_model=Household, status_code=201, tags=["搬迁户"], summary="登记搬迁户")
async def register_household(body: HouseholdIn, ctx: IdempotentContext, service: Registry) -> Household:
    return await service.register_household(ctx=ctx, data=body)


@router.post("/households/batch", response_model=BatchResult, tags=["搬迁户"], summary="批量登记搬迁户")
async def register_households(body: BatchIn, ctx: IdempotentContext, service: Registry) -> BatchResult:
    return await service.register_households_batch(ctx=ctx, rows=body.items)


@router.get("/households/{household_id}", response_model=Household, tags=["搬迁户"], summary="查看搬迁户及成员")
async def get_household(household_id: str, ctx: CurrentContext, service: Registry) -> Household:
    return await service.get_household(ctx=ctx, household_id=household_id)


@router.get("/households", response_model=list[Household], tags=["搬迁户"], summary="区域内的搬迁户")
async def list_households(
    ctx: CurrentContext,
    service: Registry,
    area: Annotated[str, Query(max_length=30)],
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Household]:
    return await service.list_households(ctx=ctx, area=area, after=after, limit=limit)


@router.post("/residents", response_model=Resident, status_code=201, tags=["居民"], summary="登记居民")
async def register_resident(body: ResidentIn, ctx: IdempotentContext, service: Registry) -> Resident:
    return await service.register_resident(ctx=ctx, data=body)


@router.post("/residents/batch", response_model=BatchResult, tags=["居民"], summary="批量登记居民")
async def register_residents(body: BatchIn, ctx: IdempotentContext, service: Registry) -> BatchResult:
    return await service.register_residents_batch(ctx=ctx, rows=body.items)


@router.get("/residents/{resident_id}", response_model=Resident, tags=["居民"], summary="查看居民")
async def get_resident(resident_id: str, ctx: CurrentContext, service: Registry) -> Resident:
    return await service.get_resident(ctx=ctx, resident_id=resident_id)


@router.patch("/residents/{resident_id}", response_model=Resident, tags=["居民"], summary="更新劳动能力")
async def update_resident(resident_id: str, body: ResidentUpdate, ctx: CurrentContext, service: Registry) -> Resident:
    return await service.update_resident(ctx=ctx, resident_id=resident_id, data=body)


@router.post("/residents/{resident_id}/move-out", response_model=Resident, tags=["居民"], summary="迁出")
async def move_out(resident_id: str, body: MoveOut, ctx: CurrentContext, service: Registry) -> Resident:
    return await service.move_out(ctx=ctx, resident_id=resident_id, data=body)
