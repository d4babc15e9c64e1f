"""The consumer base: manual commits, a rebalance listener, per-event idempotency in the same
transaction as the handler's effects, and a dead-letter topic for what cannot be processed.

A message that cannot be parsed, is of an unknown type, or whose handler rejects it for good
goes to the dead-letter topic with the reason and the consumer moves on: one bad message
never stalls its partition. Infrastructure failures (database unreachable) are retried:
skipping those would lose events.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.structs import OffsetAndMetadata
from prometheus_client import Counter, Gauge
from pydantic import ValidationError
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, OperationFailure

from relocation_shared.errors import DomainError
from relocation_shared.events import CATALOG, Envelope, EventPayload, InvalidEvent
from relocation_shared.logging import get_logger
from relocation_shared.outbox import Tx, UnitOfWork
from relocation_shared.pii import scrub
from relocation_shared.tasks import cancel
from relocation_shared.topics import DEAD_LETTER

log = get_logger(__name__)

PROCESSED = Counter("consumer_events_processed_total", "Events handled", ["group", "type"])
DUPLICATES = Counter("consumer_events_duplicate_total", "Redelivered events skipped", ["group"])
DEAD_LETTERED = Counter("consumer_events_dead_lettered_total", "Events sent to the dead-letter topic", ["group"])
LAG = Gauge("consumer_lag", "Messages behind the partition's high-water mark", ["group", "topic", "partition"])

PROCESSED_EVENTS = "processed_events"
Handler = Callable[[Tx, Envelope, Any], Awaitable[None]]

# Handler failures that no retry will mend: the event goes to the dead-letter topic.
PERMANENT = (InvalidEvent, DomainError, ValidationError, ValueError, KeyError, TypeError)
MAX_ATTEMPTS = 5


class _Listener(ConsumerRebalanceListener):
    def __init__(self, owner: EventConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self.owner.commit_pending()
        for tp in revoked:
            with contextlib.suppress(KeyError):
                LAG.remove(self.owner.group_id, tp.topic, str(tp.partition))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        log.info("partitions assigned", group=self.owner.group_id, partitions=[str(tp) for tp in assigned])


class EventConsumer:
    """Consumes topics in a consumer group and hands each event to the handler for its type.

    Each event is handled in its own unit of work together with an insert into
    `processed_events` keyed by event id, so a redelivered event changes nothing, and events
    the handler records go out through the outbox of the same transaction."""

    def __init__(
        self,
        *,
        group_id: str,
        topics: list[str],
        bootstrap: str,
        uow: UnitOfWork,
        handlers: dict[str, Handler],
        dlq_producer: AIOKafkaProducer,
        max_records: int = 500,
    ) -> None:
        self.group_id = group_id
        self.topics = topics
        self.bootstrap = bootstrap
        self.uow = uow
        self.db: AsyncDatabase[dict[str, Any]] = uow.db
        self.handlers = handlers
        self.dlq = dlq_producer
        self.max_records = max_records
        self.consumer: AIOKafkaConsumer | None = None
        self._pending: dict[TopicPartition, int] = {}
        self._task: asyncio.Task[None] | None = None
        self.caught_up = asyncio.Event()

    def kafka_consumer(self, **options: Any) -> AIOKafkaConsumer:
        """The group's Kafka consumer: offsets committed by hand, from the earliest, committed
        records only; `options` add to or override these (e.g. max_partition_fetch_bytes)."""
        settings: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "group_id": self.group_id,
            "client_id": self.group_id,
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            "isolation_level": "read_committed",
        }
        return AIOKafkaConsumer(**(settings | options))

    def report_lag(self, tp: TopicPartition, last_offset: int) -> None:
        """Set the lag gauge of a partition after handling records up to `last_offset`."""
        assert self.consumer is not None
        highwater = self.consumer.highwater(tp)
        if highwater is not None:
            LAG.labels(self.group_id, tp.topic, str(tp.partition)).set(max(0, highwater - last_offset - 1))

    async def start(self) -> None:
        self.consumer = self.kafka_consumer()
        await self.consumer.start()
        self.consumer.subscribe(self.topics, listener=_Listener(self))
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.group_id}")

    async def stop(self) -> None:
        await cancel(self._task)
        if self.consumer is not None:
            with contextlib.suppress(Exception):
                await self.commit_pending()
            await self.consumer.stop()

    async def commit_pending(self) -> None:
        if self._pending and self.consumer is not None:
            offsets = {tp: OffsetAndMetadata(off, "") for tp, off in self._pending.items()}
            await self.consumer.commit(offsets)
            self._pending.clear()

    async def _run(self) -> None:
        assert self.consumer is not None
        while True:
            batches = await self.consumer.getmany(timeout_ms=500, max_records=self.max_records)
            for tp, records in batches.items():
                for record in records:
                    await self.process(record)
                    self._pending[tp] = record.offset + 1
                self.report_lag(tp, records[-1].offset)
            await self.commit_pending()
            if not batches:
                self.caught_up.set()

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            env, payload = CATALOG.parse(record.value or b"")
        except InvalidEvent as exc:
            await self.dead_letter(record, exc.reason)
            return
        handler = self.handlers.get(env.type)
        if handler is None:
            return  # a well-formed event this service does not need
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._handle_once(handler, env, payload)
                return
            except PERMANENT as exc:
                await self.dead_letter(record, f"{type(exc).__name__}: {exc}", env)
                return
            except (ConnectionFailure, OperationFailure) as exc:  # the database is away: wait for it
                log.warning("event handling deferred", error=str(exc), event_id=env.id)
                await asyncio.sleep(min(0.2 * attempt, 5.0))
            except Exception as exc:
                if attempt >= MAX_ATTEMPTS:
                    await self.dead_letter(record, f"{type(exc).__name__}: {exc}", env)
                    return
                log.warning("event handling failed, retrying", error=str(exc), event_id=env.id)
                await asyncio.sleep(0.2 * attempt)

    async def _handle_once(self, handler: Handler, env: Envelope, payload: EventPayload) -> None:
        async def work(tx: Tx) -> bool:
            # Check, then insert: a failed write would abort the whole transaction. The insert
            # still guards the race: a concurrent twin makes this transaction fail and retry.
            seen = await self.db[PROCESSED_EVENTS].find_one({"_id": env.id}, {"_id": 1}, session=tx.session)
            if seen is not None:
                return False
            await handler(tx, env, payload)
            await self.db[PROCESSED_EVENTS].insert_one(
                {"_id": env.id, "type": env.type, "at": tx.now}, session=tx.session
            )
            return True

        handled = await self.uow.run(work, correlation_id=env.correlation_id or env.id)
        if handled:
            PROCESSED.labels(self.group_id, env.type).inc()
            log.debug("event handled", event_id=env.id, event_type=env.type)
        else:
            DUPLICATES.labels(self.group_id).inc()

    async def dead_letter(self, record: ConsumerRecord[bytes, bytes], reason: str, env: Envelope | None = None) -> None:
        value = record.value or b""
        with contextlib.suppress(UnicodeDecodeError):
            value = scrub(value.decode()).encode()  # never forward a raw ID number
        headers = [
            ("dlq.reason", scrub(reason)[:1000].encode()),
            ("dlq.group", self.group_id.encode()),
            ("dlq.topic", record.topic.encode()),
            ("dlq.partition", str(record.partition).encode()),
            ("dlq.offset", str(record.offset).encode()),
        ]
        await self.dlq.send_and_wait(DEAD_LETTER, value=value, key=record.key, headers=headers)
        DEAD_LETTERED.labels(self.group_id).inc()
        log.warning(
            "event dead-lettered",
            reason=reason,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            event_id=env.id if env else None,
        )
