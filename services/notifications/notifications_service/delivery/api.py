"""HTTP routes of delivery: a notification's delivery status, the dead-letter list and replay."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from notifications_service.delivery.models import DeadLetter, Delivery, NotificationStatus
from notifications_service.delivery.service import DeliveryService
from relocation_shared.deps import CurrentContext, from_state

Service = Annotated[DeliveryService, from_state("delivery")]

router = APIRouter(prefix="/api/v1", tags=["投递"])


@router.get("/notifications/{notification_id}", response_model=NotificationStatus, summary="通知投递状态")
async def status(notification_id: str, ctx: CurrentContext, service: Service) -> NotificationStatus:
    return await service.status(ctx=ctx, notification_id=notification_id)


@router.get("/dead-letters", response_model=list[DeadLetter], summary="发送失败清单(市级)")
async def dead_letters(
    ctx: CurrentContext, service: Service, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[DeadLetter]:
    return await service.dead_letters(ctx=ctx, limit=limit)


@router.post("/dead-letters/{delivery_id}/replay", response_model=Delivery, summary="重新发送")
async def replay(delivery_id: str, ctx: CurrentContext, service: Service) -> Delivery:
    return await service.replay(ctx=ctx, delivery_id=delivery_id)
