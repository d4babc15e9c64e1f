"""HTTP routes of the notifications service: thin, every rule lives in service.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from notifications_service.models import (
    DeadLetter,
    Delivery,
    EventTypeInfo,
    InboxItem,
    NotificationStatus,
    Preferences,
    PreferencesIn,
    Rule,
    RuleIn,
    RuleUpdate,
    StaffEntry,
)
from notifications_service.push import InboxHub
from notifications_service.service import NotificationsService
from relocation_shared.auth import CurrentPrincipal


def get_service(request: Request) -> NotificationsService:
    service: NotificationsService = request.app.state.service
    return service


def get_hub(request: Request) -> InboxHub:
    hub: InboxHub = request.app.state.hub
    return hub


Service = Annotated[NotificationsService, Depends(get_service)]
Hub = Annotated[InboxHub, Depends(get_hub)]

router = APIRouter(prefix="/api/v1")
PING_SECONDS = 15.0
CHECK_SECONDS = 1.0


# --- my inbox ------------------------------------------------------------------------------------


@router.get("/inbox", response_model=list[InboxItem], tags=["我的消息"], summary="我的消息")
async def inbox(
    principal: CurrentPrincipal,
    service: Service,
    unread: bool = False,
    unacknowledged: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[InboxItem]:
    return await service.inbox(principal=principal, unread_only=unread, unacked_only=unacknowledged, limit=limit)


@router.get("/inbox/stream", tags=["我的消息"], summary="实时推送(Server-Sent Events)")
async def inbox_stream(principal: CurrentPrincipal, service: Service, hub: Hub, request: Request) -> StreamingResponse:
    queue = hub.subscribe(principal.subject)  # before the count: nothing falls between the two
    unread = await service.unread(principal=principal)

    async def body() -> AsyncIterator[bytes]:
        try:
            yield f'event: ready\ndata: {{"unread": {unread}}}\n\n'.encode()
            quiet_since = time.monotonic()
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=CHECK_SECONDS)
                except TimeoutError:
                    if await request.is_disconnected():
                        return  # the cadre closed the page: stop at once, not at the next ping
                    if time.monotonic() - quiet_since >= PING_SECONDS:
                        yield b"event: ping\ndata: {}\n\n"
                        quiet_since = time.monotonic()
                    continue
                if item is None:
                    return  # the hub closed this stream: the client reconnects and reloads
                yield f"id: {item.id}\nevent: notification\ndata: {item.model_dump_json()}\n\n".encode()
                quiet_since = time.monotonic()
        finally:
            hub.unsubscribe(principal.subject, queue)

    return StreamingResponse(
        body(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


@router.post("/inbox/{notification_id}/read", response_model=InboxItem, tags=["我的消息"], summary="标记已读")
async def read(notification_id: str, principal: CurrentPrincipal, service: Service) -> InboxItem:
    return await service.mark_read(principal=principal, notification_id=notification_id)


@router.post("/inbox/{notification_id}/ack", response_model=InboxItem, tags=["我的消息"], summary="确认收到")
async def acknowledge(notification_id: str, principal: CurrentPrincipal, service: Service) -> InboxItem:
    return await service.acknowledge(principal=principal, notification_id=notification_id)


@router.get("/preferences", response_model=Preferences, tags=["我的消息"], summary="我的接收设置")
async def get_preferences(principal: CurrentPrincipal, service: Service) -> Preferences:
    return await service.get_preferences(principal=principal)


@router.put("/preferences", response_model=Preferences, tags=["我的消息"], summary="修改接收设置")
async def put_preferences(body: PreferencesIn, principal: CurrentPrincipal, service: Service) -> Preferences:
    return await service.set_preferences(principal=principal, data=body)


# --- delivery status and dead letters -------------------------------------------------------------


@router.get(
    "/notifications/{notification_id}", response_model=NotificationStatus, tags=["投递"], summary="通知投递状态"
)
async def status(notification_id: str, principal: CurrentPrincipal, service: Service) -> NotificationStatus:
    return await service.status(principal=principal, notification_id=notification_id)


@router.get("/dead-letters", response_model=list[DeadLetter], tags=["投递"], summary="发送失败清单(市级)")
async def dead_letters(
    principal: CurrentPrincipal, service: Service, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[DeadLetter]:
    return await service.dead_letters(principal=principal, limit=limit)


@router.post("/dead-letters/{delivery_id}/replay", response_model=Delivery, tags=["投递"], summary="重新发送")
async def replay(delivery_id: str, principal: CurrentPrincipal, service: Service) -> Delivery:
    return await service.replay(principal=principal, delivery_id=delivery_id)


# --- rules ---------------------------------------------------------------------------------------


@router.get("/rules", response_model=list[Rule], tags=["通知规则"], summary="通知规则")
async def list_rules(
    principal: CurrentPrincipal,
    service: Service,
    event_type: Annotated[str | None, Query(max_length=100)] = None,
    include_deleted: bool = False,
) -> list[Rule]:
    return await service.list_rules(principal=principal, include_deleted=include_deleted, event_type=event_type)


@router.post("/rules", response_model=Rule, status_code=201, tags=["通知规则"], summary="新建规则(市级)")
async def create_rule(body: RuleIn, principal: CurrentPrincipal, service: Service) -> Rule:
    return await service.create_rule(principal=principal, data=body)


@router.get("/rules/{rule_id}", response_model=Rule, tags=["通知规则"], summary="查看规则")
async def get_rule(rule_id: str, principal: CurrentPrincipal, service: Service) -> Rule:
    return await service.get_rule(principal=principal, rule_id=rule_id)


@router.put("/rules/{rule_id}", response_model=Rule, tags=["通知规则"], summary="修改规则(生成新版本)")
async def update_rule(rule_id: str, body: RuleUpdate, principal: CurrentPrincipal, service: Service) -> Rule:
    return await service.update_rule(principal=principal, rule_id=rule_id, data=body)


@router.delete("/rules/{rule_id}", response_model=Rule, tags=["通知规则"], summary="删除规则(生成停用版本)")
async def delete_rule(
    rule_id: str,
    principal: CurrentPrincipal,
    service: Service,
    expected_version: Annotated[int | None, Query(ge=1)] = None,
) -> Rule:
    return await service.delete_rule(principal=principal, rule_id=rule_id, expected_version=expected_version)


@router.get("/rules/{rule_id}/versions", response_model=list[Rule], tags=["通知规则"], summary="规则的历次版本")
async def rule_versions(rule_id: str, principal: CurrentPrincipal, service: Service) -> list[Rule]:
    return await service.rule_versions(principal=principal, rule_id=rule_id)


@router.get("/event-types", response_model=list[EventTypeInfo], tags=["通知规则"], summary="可配置的事件与字段")
async def event_types(principal: CurrentPrincipal, service: Service) -> list[EventTypeInfo]:
    return service.event_types(principal=principal)


@router.get("/staff", response_model=list[StaffEntry], tags=["通知规则"], summary="区域内接收通知的人员")
async def staff(
    principal: CurrentPrincipal,
    service: Service,
    area: Annotated[str, Query(max_length=40)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[StaffEntry]:
    return [StaffEntry.from_doc(d) for d in await service.staff(principal=principal, area=area, limit=limit)]
