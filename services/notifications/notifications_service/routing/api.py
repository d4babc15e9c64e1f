"""HTTP route of the directory: who receives notifications in an area."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from notifications_service.routing.models import StaffEntry
from notifications_service.routing.service import RoutingService
from relocation_shared.deps import CurrentContext, from_state

Service = Annotated[RoutingService, from_state("routing")]

router = APIRouter(prefix="/api/v1", tags=["通知规则"])


@router.get("/staff", response_model=list[StaffEntry], summary="区域内接收通知的人员")
async def staff(
    ctx: CurrentContext,
    service: Service,
    area: Annotated[str, Query(max_length=40)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[StaffEntry]:
    return await service.staff(ctx=ctx, area=area, limit=limit)
