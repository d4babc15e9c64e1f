"""The consumer base: manual commits, a rebalance listener, idempotency in the same transaction
as the handlers' effects, and a dead-letter topic for what cannot be processed.

A fetched batch of one partition is applied in ONE transaction: its event ids are looked up in
`processed_events` at once, the handlers of the fresh events run in partition order, the ids go
in with one `insert_many` and the events the handlers recorded with the unit of work's outbox
write; the offsets are committed after the transaction. A redelivered batch changes nothing.

A message that cannot be parsed, is of an unknown type, or whose handler rejects it for good
goes to the dead-letter topic with the reason and the consumer moves on: one bad message never
stalls its partition nor fails its neighbours (`isolate` applies the others without it).
Infrastructure failures (database unreachable) are retried: skipping those would lose events.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

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
from relocation_shared.mongo import find_in
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


T = TypeVar("T")


class Refused(Exception):
    """A batch could not be applied: the handler of its item `index` refused it (`error`), or,
    `index` None, the batch failed as a whole."""

    def __init__(self, index: int | None, error: Exception) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error


async def isolate(items: Sequence[T], apply: Callable[[list[T]], Awaitable[None]]) -> list[tuple[T, Exception]]:
    """Apply `items` in order in as few calls of `apply` as it allows; return those refused,
    with their errors, in their order.

    `apply` applies a list all or nothing, or raises `Refused`. A refusal that names its item
    drops that item and applies the others again together (those before it did not fail: they
    are applied as they were); one that names none splits the list in halves, the first applied
    before the second, down to the single item, which is then the one refused."""
    refused: list[tuple[int, Exception]] = []
    todo: list[list[int]] = [list(range(len(items)))]  # a stack: the last is applied next
    while todo:
        part = todo.pop()
        if not part:
            continue
        try:
            await apply([items[n] for n in part])
        except Refused as exc:
            if exc.index is not None:
                refused.append((part[exc.index], exc.error))
                todo.append(part[: exc.index] + part[exc.index + 1 :])
            elif len(part) == 1:
                refused.append((part[0], exc.error))
            else:
                half = len(part) // 2
                todo += [part[half:], part[:half]]
    return [(items[n], error) for n, error in sorted(refused, key=lambda r: r[0])]


@dataclass(frozen=True, slots=True)
class Item:
    """A parsed record and the handler of its type."""

    record: ConsumerRecord[bytes, bytes]
    env: Envelope
    payload: EventPayload
    handler: Handler


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

    A partition's fetched batch is handled in one unit of work together with the inserts into
    `processed_events` keyed by event id, so a redelivered event changes nothing, and events
    the handlers record go out through the outbox of the same transaction. Handlers run in
    partition order and see the effects of the batch's earlier events."""

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
                await self.apply_records(records)
                self._pending[tp] = records[-1].offset + 1
                self.report_lag(tp, records[-1].offset)
            await self.commit_pending()
            if not batches:
                self.caught_up.set()

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        """One record on its own: a batch of one."""
        await self.apply_records([record])

    async def apply_records(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """Records of one partition, in their order: those that do not parse are dead-lettered,
        those of types without a handler passed over, the rest applied in one transaction (fewer
        when one is refused: `isolate`). The refused go to the dead-letter topic."""
        items: list[Item] = []
        ids: set[str] = set()
        for record in records:
            try:
                env, payload = CATALOG.parse(record.value or b"")
            except InvalidEvent as exc:
                await self.dead_letter(record, exc.reason)
                continue
            handler = self.handlers.get(env.type)
            if handler is None:
                continue  # a well-formed event this service does not need
            if env.id in ids:  # twice in one fetch (a relay's resend): once is enough
                DUPLICATES.labels(self.group_id).inc()
                continue
            ids.add(env.id)
            items.append(Item(record, env, payload, handler))
        for item, error in await isolate(items, self._apply):
            await self.dead_letter(item.record, f"{type(error).__name__}: {error}", item.env)

    async def _apply(self, items: list[Item]) -> None:
        """`items` in one transaction, retried while the database is away and a few times on
        other failures. Raises `Refused` when a handler refuses its event for good (or keeps
        failing), naming it, or when the batch fails as a whole."""
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._apply_once(items)
                return
            except Refused as refused:
                if isinstance(refused.error, PERMANENT) or attempt >= MAX_ATTEMPTS:
                    raise
                error: Exception = refused.error
            except (ConnectionFailure, OperationFailure) as exc:  # the database is away: wait for it
                log.warning("event handling deferred", error=str(exc), events=len(items), event_id=items[0].env.id)
                await asyncio.sleep(min(0.2 * attempt, 5.0))
                continue
            except Exception as exc:  # outside every handler: the batch as a whole
                if isinstance(exc, PERMANENT) or attempt >= MAX_ATTEMPTS:
                    raise Refused(None, exc) from exc
                error = exc
            log.warning("event handling failed, retrying", error=str(error), events=len(items))
            await asyncio.sleep(0.2 * attempt)

    async def _apply_once(self, items: list[Item]) -> None:
        async def work(tx: Tx) -> list[Item]:
            # Check, then insert: a failed write would abort the whole transaction. The insert
            # still guards the race: a concurrent twin makes this transaction fail and retry.
            seen = {
                d["_id"]
                for d in await find_in(
                    self.db[PROCESSED_EVENTS],
                    "_id",
                    [i.env.id for i in items],
                    projection={"_id": 1},
                    session=tx.session,
                )
            }
            fresh = [(n, i) for n, i in enumerate(items) if i.env.id not in seen]
            for n, item in fresh:
                tx.correlation_id = item.env.correlation_id or item.env.id  # for the events it records
                try:
                    await item.handler(tx, item.env, item.payload)
                except (ConnectionFailure, OperationFailure):
                    raise  # the driver retries the transient ones; `_apply` waits for the rest
                except Exception as exc:
                    raise Refused(n, exc) from exc
            if fresh:
                docs = [{"_id": i.env.id, "type": i.env.type, "at": tx.now} for _, i in fresh]
                await self.db[PROCESSED_EVENTS].insert_many(docs, session=tx.session)
            return [i for _, i in fresh]

        handled = await self.uow.run(work)
        for item in handled:
            PROCESSED.labels(self.group_id, item.env.type).inc()
        if len(handled) < len(items):
            DUPLICATES.labels(self.group_id).inc(len(items) - len(handled))
        log.debug("events handled", events=len(handled), duplicates=len(items) - len(handled))

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
