"""The live stream of an area (Server-Sent Events): its view whenever it changes, at most five
times a second, each new event in it, a ping every 15 seconds; served from MongoDB change
streams, so every instance sees every change."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator

from fastapi import Request
from pymongo.asynchronous.database import AsyncDatabase

from readmodel_service.fold.plan import storage_id
from readmodel_service.fold.repository import active_generation
from readmodel_service.views.domain import Targets, feed_item, view_from
from readmodel_service.views.repository import ViewStore
from relocation_shared.clock import Clock, business_today
from relocation_shared.mongo import Doc

Message = tuple[str, str]  # (event kind, JSON data)


async def area_stream(
    *, db: AsyncDatabase[Doc], store: ViewStore, area: str, doc: Doc, targets: Targets, clock: Clock
) -> AsyncGenerator[Message, None]:
    """The messages of an area's stream, from its view as it stands (`doc`, read before)."""
    pipeline = store.stream_pipeline(area, storage_id(area))
    async with await db.watch(pipeline, full_document="updateLookup", max_await_time_ms=200) as changes:
        # the first view is read once the change stream is open: no change falls between the two
        doc = await store.view(area) or doc
        today = business_today(clock)
        children = await store.children(area)
        yield "view", view_from(doc, targets=targets, on=today, children=children).model_dump_json()
        last_push = last_ping = last_check = time.monotonic()
        pending = False
        while True:
            change = await changes.try_next()
            now = time.monotonic()
            if change is not None and change["ns"]["coll"] == store.coll("feed").name:
                yield "feed", feed_item(change.get("fullDocument") or {}).model_dump_json()
                continue
            if change is not None:
                pending = True
            # at most five view updates a second per client; a deferred one is sent, never dropped
            if pending and now - last_push >= 0.2:
                current = await store.view(area)
                if current is not None:
                    children = await store.children(area)
                    view = view_from(current, targets=targets, on=business_today(clock), children=children)
                    yield "view", view.model_dump_json()
                pending = False
                last_push = last_ping = now
            elif now - last_ping >= 15:
                yield "ping", "{}"
                last_ping = now
            if change is None and now - last_check >= 2:
                last_check = now
                if await active_generation(db) != store.generation:
                    return  # a rebuild switched generations: the client reconnects


async def sse_body(first: Message, messages: AsyncIterator[Message], request: Request) -> AsyncIterator[bytes]:
    """The stream's bytes, until the client goes away."""
    kind, data = first
    yield f"event: {kind}\ndata: {data}\n\n".encode()
    async for kind, data in messages:
        if await request.is_disconnected():
            break
        yield f"event: {kind}\ndata: {data}\n\n".encode()
