"""Live push to open inbox streams.

The inbox channel writes one push record per delivered notification (its id is the
notification's, so there is never a second). Each instance watches the pushes (a MongoDB change
stream of inserts, which carry the whole record: no look-up per change) and hands each one to
the streams its recipient has open on this instance. Any instance may deliver and any may hold
the cadre's stream: the database is where they meet."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from notifications_service.inbox.models import InboxItem
from relocation_shared.logging import get_logger
from relocation_shared.mongo import Doc
from relocation_shared.tasks import cancel

log = get_logger(__name__)

PIPELINE = [{"$match": {"operationType": "insert"}}]


class InboxHub:
    def __init__(self, db: AsyncDatabase[Doc], *, queue_size: int = 500) -> None:
        self.db = db
        self.queue_size = queue_size
        self.subscribers: dict[str, set[asyncio.Queue[InboxItem | None]]] = {}
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def subscribe(self, subject: str) -> asyncio.Queue[InboxItem | None]:
        queue: asyncio.Queue[InboxItem | None] = asyncio.Queue(self.queue_size)
        self.subscribers.setdefault(subject, set()).add(queue)
        return queue

    def unsubscribe(self, subject: str, queue: asyncio.Queue[InboxItem | None]) -> None:
        queues = self.subscribers.get(subject)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self.subscribers[subject]

    def publish(self, push: Doc) -> None:
        queues = list(self.subscribers.get(push.get("recipient", ""), ()))
        if not queues:
            return
        item = InboxItem.model_validate(push["item"])
        for queue in queues:
            try:
                queue.put_nowait(item)
            except asyncio.QueueFull:  # a stream that does not read: close it, the client reloads
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                queue.put_nowait(None)

    async def run(self) -> None:
        resume: Any = None
        failures = 0
        while True:
            try:
                async with await self.db.pushes.watch(PIPELINE, resume_after=resume, max_await_time_ms=250) as changes:
                    self.ready.set()
                    failures = 0
                    while True:
                        change = await changes.try_next()
                        if change is None:
                            continue
                        resume = change.get("_id")
                        doc = change.get("fullDocument")
                        if doc is not None:
                            self.publish(doc)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the server went away: watch again, from where we were ...
                failures += 1
                if failures > 1:
                    resume = None  # ... unless that point is gone: from now (streams reload on reconnect)
                delay = min(0.2 * 2**failures, 5.0)
                log.warning("inbox change stream interrupted", error=str(exc), retry_in=delay)
                await asyncio.sleep(delay)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="inbox-hub")

    async def stop(self) -> None:
        await cancel(self._task)
        for queues in self.subscribers.values():
            for q in queues:
                with contextlib.suppress(asyncio.QueueFull):
                    q.put_nowait(None)
