"""HTTP routes of the registry: thin, every rule lives in service.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from governance_service.models import (
    Area,
    AreaIn,
    Household,
    HouseholdIn,
    MoveOut,
    Resident,
    ResidentIn,
    ResidentUpdate,
)
from governance_service.service import GovernanceService
from relocation_shared.auth import CurrentPrincipal
from relocation_shared.batch import BatchIn, BatchResult


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
