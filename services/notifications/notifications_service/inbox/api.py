"""HTTP routes of a cadre's own inbox: the list, the live stream (SSE), read, acknowledge, and
the receiving preferences."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from notifications_service.inbox.models import InboxItem, Preferences, PreferencesIn
from notifications_service.inbox.push import InboxHub
from notifications_service.inbox.service import InboxService
from relocation_shared.deps import CurrentContext, from_state

Service = Annotated[InboxService, from_state("inbox")]
Hub = Annotated[InboxHub, from_state("hub")]

router = APIRouter(prefix="/api/v1", tags=["我的消息"])
PING_SECONDS = 15.0
CHECK_SECONDS = 1.0


@router.get("/inbox", response_model=list[InboxItem], summary="我的消息")
async def inbox(
    ctx: CurrentContext,
    service: Service,
    unread: bool = False,
    unacknowledged: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[InboxItem]:
    return await service.inbox(ctx=ctx, unread_only=unread, unacked_only=unacknowledged, limit=limit)


@router.get("/inbox/stream", summary="实时推送(Server-Sent Events)")
async def inbox_stream(ctx: CurrentContext, service: Service, hub: Hub, request: Request) -> StreamingResponse:
    subject = ctx.principal.subject
    queue = hub.subscribe(subject)  # before the count: nothing falls between the two
    unread = await service.unread(ctx=ctx)

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
            hub.unsubscribe(subject, queue)

    return StreamingResponse(
        body(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


@router.post("/inbox/{notification_id}/read", response_model=InboxItem, summary="标记已读")
async def read(notification_id: str, ctx: CurrentContext, service: Service) -> InboxItem:
    return await service.mark_read(ctx=ctx, notification_id=notification_id)


@router.post("/inbox/{notification_id}/ack", response_model=InboxItem, summary="确认收到")
async def acknowledge(notification_id: str, ctx: CurrentContext, service: Service) -> InboxItem:
    return await service.acknowledge(ctx=ctx, notification_id=notification_id)


@router.get("/preferences", response_model=Preferences, summary="我的接收设置")
async def get_preferences(ctx: CurrentContext, service: Service) -> Preferences:
    return await service.get_preferences(ctx=ctx)


@router.put("/preferences", response_model=Preferences, summary="修改接收设置")
async def put_preferences(body: PreferencesIn, ctx: CurrentContext, service: Service) -> Preferences:
    return await service.set_preferences(ctx=ctx, data=body)
