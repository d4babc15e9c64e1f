"""HTTP routes of the labour-force ledger: thin, every rule lives in domain.py and service.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from employment_service.models import (
    EmploymentIn,
    EndEmploymentIn,
    HouseholdEmployment,
    ResidentHistory,
    RosterResident,
    Spell,
    Training,
    TrainingIn,
)
from employment_service.service import EmploymentService
from relocation_shared.batch import BatchIn, BatchResult
from relocation_shared.deps import CurrentContext, IdempotentContext, from_state

Service = Annotated[EmploymentService, from_state("service")]

router = APIRouter(prefix="/api/v1")


@router.post("/employments", response_model=Spell, status_code=201, tags=["就业"], summary="登记就业")
async def employ(body: EmploymentIn, ctx: IdempotentContext, service: Service) -> Spell:
    return await service.employ(ctx=ctx, data=body)


@router.post("/employments/batch", response_model=BatchResult, tags=["就业"], summary="批量登记就业(人社局)")
async def employ_batch(body: BatchIn, ctx: IdempotentContext, service: Service) -> BatchResult:
    return await service.employ_batch(ctx=ctx, rows=body.items)


@router.post("/employments/{spell_id}/end", response_model=Spell, tags=["就业"], summary="结束就业")
async def end_employment(spell_id: str, body: EndEmploymentIn, ctx: CurrentContext, service: Service) -> Spell:
    return await service.end_employment(ctx=ctx, spell_id=spell_id, data=body)


@router.get("/employments/{spell_id}", response_model=Spell, tags=["就业"], summary="查看就业记录")
async def get_spell(spell_id: str, ctx: CurrentContext, service: Service) -> Spell:
    return await service.get_spell(ctx=ctx, spell_id=spell_id)


@router.post("/trainings", response_model=Training, status_code=201, tags=["培训"], summary="登记培训")
async def record_training(body: TrainingIn, ctx: IdempotentContext, service: Service) -> Training:
    return await service.record_training(ctx=ctx, data=body)


@router.post("/trainings/batch", response_model=BatchResult, tags=["培训"], summary="批量登记培训")
async def record_trainings(body: BatchIn, ctx: IdempotentContext, service: Service) -> BatchResult:
    return await service.record_trainings_batch(ctx=ctx, rows=body.items)


@router.get("/roster/residents/{resident_id}", response_model=RosterResident, tags=["台账"], summary="台账中的居民")
async def roster_resident(resident_id: str, ctx: CurrentContext, service: Service) -> RosterResident:
    return await service.roster_resident(ctx=ctx, resident_id=resident_id)


@router.get("/residents/{resident_id}/history", response_model=ResidentHistory, tags=["台账"], summary="就业与培训经历")
async def resident_history(resident_id: str, ctx: CurrentContext, service: Service) -> ResidentHistory:
    resident = await service.roster_resident(ctx=ctx, resident_id=resident_id)
    spells, trainings = await service.resident_history(ctx=ctx, resident_id=resident_id)
    return ResidentHistory(resident=resident, employments=spells, trainings=trainings)


@router.get(
    "/households/{household_id}/employment", response_model=HouseholdEmployment, tags=["台账"], summary="户就业情况"
)
async def household_employment(household_id: str, ctx: CurrentContext, service: Service) -> HouseholdEmployment:
    return await service.household_employment(ctx=ctx, household_id=household_id)


@router.get(
    "/zero-employment-households", response_model=list[HouseholdEmployment], tags=["台账"], summary="零就业家庭"
)
async def zero_employment_households(
    ctx: CurrentContext,
    service: Service,
    area: Annotated[str, Query(max_length=30)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[HouseholdEmployment]:
    return await service.zero_employment_households(ctx=ctx, area=area, limit=limit)
