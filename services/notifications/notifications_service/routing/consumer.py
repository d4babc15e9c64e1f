"""The consumer of the routed topics, fetched batch by batch. The processed-events bookkeeping
(`processed_events`, checked first and written in the routing transaction) makes each event's
notifications happen once however often it is delivered."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiokafka import ConsumerRecord
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

from notifications_service.routing.service import RoutingService
from relocation_shared.consumer import (
    DUPLICATES,
    LAG,
    MAX_ATTEMPTS,
    PERMANENT,
    PROCESSED,
    PROCESSED_EVENTS,
    EventConsumer,
)
from relocation_shared.events import CATALOG, Envelope, EventPayload, InvalidEvent
from relocation_shared.events.governance import AreaRegistered, StaffAssigned, StaffUnassigned
from relocation_shared.logging import get_logger
from relocation_shared.outbox import Tx, UnitOfWork

log = get_logger(__name__)
T = TypeVar("T")


class WakingUnitOfWork(UnitOfWork):
    """The consumer's unit of work: after each commit it wakes the dispatcher, so a new
    notification is delivered at once rather than at the next poll. Events it records go out
    through the same outbox relay as the service's own (`committed` is shared)."""

    def __init__(self, base: UnitOfWork, *, wake: asyncio.Event) -> None:
        super().__init__(base.client, base.db, producer=base.producer, clock=base.clock)
        self.committed = base.committed
        self.wake = wake

    async def run(self, fn: Callable[[Tx], Awaitable[T]], *, correlation_id: str | None = None) -> T:
        result = await super().run(fn, correlation_id=correlation_id)
        self.wake.set()
        return result


DIRECTORY_TYPES = frozenset({StaffAssigned.event_type, StaffUnassigned.event_type, AreaRegistered.event_type})


class NotificationsConsumer(EventConsumer):
    """The consumer base, fetched batch by batch:
    - an event this service has no use for is passed over (most of the topics' traffic);
    - the directory's events are plain idempotent upserts, applied in partition order before
      the batch is routed (so an alert sees the staffing published before it);
    - the events the rules route are handled together in one transaction, with their ids in
      `processed_events` (checked first) and each notification's key checked before it is
      written: a redelivered batch, or one event twice in a batch, notifies nobody twice.
    When the batch's transaction fails for good, its events are handled one by one by the base
    (one transaction each), which sends the culprit to the dead-letter topic."""

    def __init__(self, *, service: RoutingService, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.service = service
        self.routing = service.in_force

    async def _run(self) -> None:
        assert self.consumer is not None
        while True:
            batches = await self.consumer.getmany(timeout_ms=500, max_records=self.max_records)
            # one routing transaction for the whole fetch, whatever partitions it came from
            await self.process_batch([r for records in batches.values() for r in records])
            for tp, records in batches.items():
                self._pending[tp] = records[-1].offset + 1
                highwater = self.consumer.highwater(tp)
                if highwater is not None:
                    LAG.labels(self.group_id, tp.topic, str(tp.partition)).set(
                        max(0, highwater - records[-1].offset - 1)
                    )
            await self.commit_pending()
            if not batches:
                self.caught_up.set()

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        await self.process_batch([record])

    async def process_batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        if not records:
            return
        routable: list[tuple[ConsumerRecord[bytes, bytes], Envelope, EventPayload]] = []
        directory: list[tuple[Envelope, EventPayload]] = []
        for record in records:
            try:
                env = Envelope.model_validate_json(record.value or b"")
            except ValidationError:
                await super().process(record)  # malformed: the base sends it to the dead-letter topic
                continue
            staffing = env.type in DIRECTORY_TYPES
            if not staffing and not self.routing.wants(env):
                continue
            try:
                payload = CATALOG.payload_of(env)
            except InvalidEvent as exc:
                await self.dead_letter(record, exc.reason, env)
                continue
            if staffing:
                directory.append((env, payload))
            if self.routing.wants(env):
                routable.append((record, env, payload))
        if directory:
            await self._directory(directory)
        if routable:
            await self._route(routable)

    async def _directory(self, items: list[tuple[Envelope, EventPayload]]) -> None:
        attempt = 0
        while True:
            try:
                await self.service.apply_directory_batch(items)
                return
            except PyMongoError as exc:  # the database is away: wait for it, never skip
                attempt += 1
                log.warning("directory update deferred", error=str(exc), events=len(items))
                await asyncio.sleep(min(0.2 * attempt, 5.0))

    async def _route(self, items: list[tuple[ConsumerRecord[bytes, bytes], Envelope, EventPayload]]) -> None:
        unique = list({env.id: (env, payload) for _, env, payload in items}.values())

        async def work(tx: Tx) -> int:
            ids = [env.id for env, _ in unique]
            seen = {
                d["_id"]
                for d in await self.db[PROCESSED_EVENTS]
                .find({"_id": {"$in": ids}}, {"_id": 1}, session=tx.session)
                .to_list(None)
            }
            fresh = [(env, payload) for env, payload in unique if env.id not in seen]
            if not fresh:
                return 0
            await self.service.route_batch(tx, fresh)
            await self.db[PROCESSED_EVENTS].insert_many(
                [{"_id": env.id, "type": env.type, "at": tx.now} for env, _ in fresh], session=tx.session
            )
            return len(fresh)

        attempt = 0
        while True:
            attempt += 1
            try:
                handled = await self.uow.run(work)
                DUPLICATES.labels(self.group_id).inc(len(items) - handled)
                for _, env, _ in items[:handled]:
                    PROCESSED.labels(self.group_id, env.type).inc()
                return
            except (ConnectionFailure, OperationFailure) as exc:  # the database is away: wait for it
                log.warning("batch routing deferred", error=str(exc), events=len(items))
                await asyncio.sleep(min(0.2 * attempt, 5.0))
            except Exception as exc:
                if not isinstance(exc, PERMANENT) and attempt < MAX_ATTEMPTS:
                    log.warning("batch routing failed, retrying", error=str(exc), events=len(items))
                    await asyncio.sleep(0.2 * attempt)
                    continue
                log.warning("batch routing failed: one event at a time", error=str(exc), events=len(items))
                for record, _, _ in items:
                    await super().process(record)
                return
