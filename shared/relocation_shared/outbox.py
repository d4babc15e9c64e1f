"""The transactional outbox and its relay.

A use case changes state and records events in one MongoDB transaction (`UnitOfWork`); the
events land in the service's `outbox` collection in that same transaction, so an event exists
if and only if its state change was committed. `OutboxRelay` publishes pending entries to
Kafka with an idempotent producer (acks=all), keyed by aggregate id, and marks them sent only
after the broker acknowledged them. A relay that dies between publish and mark resends on
restart: events are delivered at least once and consumers drop duplicates by event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer
from prometheus_client import Counter, Gauge, Histogram
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from relocation_shared.clock import Clock, system_clock
from relocation_shared.events import CATALOG, Envelope, EventPayload
from relocation_shared.logging import get_logger
from relocation_shared.mongo import Doc, in_transaction
from relocation_shared.tasks import cancel

T = TypeVar("T")
log = get_logger(__name__)

OUTBOX = "outbox"
LEASES = "outbox_lease"
LEASE_RENEW_SECONDS = 1.0

PUBLISHED = Counter("outbox_published_total", "Outbox entries published to Kafka", ["service", "type"])
PENDING = Gauge("outbox_pending", "Outbox entries not yet published (last seen)", ["service"])
PUBLISH_ERRORS = Counter("outbox_publish_errors_total", "Failed relay rounds", ["service"])
PUBLISH_LATENCY = Histogram(
    "outbox_commit_to_ack_seconds",
    "From the outbox entry's commit to the broker's acknowledgement",
    ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


@dataclass
class Tx:
    """What a use case gets inside a unit of work: the session for its reads and writes and
    `record` for the events that the committed change means."""

    session: AsyncClientSession
    producer: str
    correlation_id: str | None
    now: datetime
    events: list[Envelope] = field(default_factory=list)

    def record(self, payload: EventPayload, *, area_path: tuple[str, ...] | list[str], aggregate_id: str) -> Envelope:
        env = CATALOG.envelope(
            payload,
            producer=self.producer,
            area_path=area_path,
            aggregate_id=aggregate_id,
            correlation_id=self.correlation_id,
            occurred_at=self.now,
        )
        self.events.append(env)
        return env


def outbox_document(env: Envelope, *, created_at: datetime) -> Doc:
    return {
        "_id": env.id,
        "topic": CATALOG.topic_of(env.type),
        "type": env.type,
        "key": env.aggregate_id,
        "value": env.model_dump_json(),
        "created_at": created_at,
        "sent_at": None,
    }


class UnitOfWork:
    """Runs a use case in one transaction and writes the events it recorded to the outbox in
    that same transaction. The relay is nudged after each commit so events leave at once."""

    def __init__(
        self, client: AsyncMongoClient[Doc], db: AsyncDatabase[Doc], *, producer: str, clock: Clock = system_clock
    ) -> None:
        self.client = client
        self.db = db
        self.producer = producer
        self.clock = clock
        self.committed = asyncio.Event()
        # where `relocation_shared.idempotency.run_once` keeps its records (the Runtime sets a keyed store)
        self.idempotency: Any = None

    async def run(self, fn: Callable[[Tx], Awaitable[T]], *, correlation_id: str | None = None) -> T:
        async def attempt(session: AsyncClientSession) -> tuple[T, int]:
            tx = Tx(session=session, producer=self.producer, correlation_id=correlation_id, now=self.clock())
            result = await fn(tx)
            if tx.events:
                docs = [outbox_document(e, created_at=tx.now) for e in tx.events]
                await self.db[OUTBOX].insert_many(docs, session=session)
            return result, len(tx.events)

        result, n_events = await in_transaction(self.client, attempt)
        if n_events:
            self.committed.set()
        return result


async def ensure_outbox_indexes(db: AsyncDatabase[Doc]) -> None:
    await db[OUTBOX].create_index([("sent_at", ASCENDING), ("_id", ASCENDING)], name="pending")


class OutboxRelay:
    """Publishes committed outbox entries to Kafka, oldest first.

    Only one relay per service publishes at a time (a lease in MongoDB), so that entries leave
    in commit order. `relay_once` is public so that tests can drive and interrupt it."""

    def __init__(
        self,
        *,
        db: AsyncDatabase[Doc],
        producer: AIOKafkaProducer,
        service: str,
        wake: asyncio.Event | None = None,
        poll_seconds: float = 0.5,
        batch_size: int = 500,
        lease_seconds: float = 3.0,
        clock: Clock = system_clock,
    ) -> None:
        self.db = db
        self.producer = producer
        self.service = service
        self.wake = wake or asyncio.Event()
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.owner = f"{self.host}:{self.pid}:{id(self):x}"
        self._task: asyncio.Task[None] | None = None
        self._lease_until: datetime | None = None

    async def fetch_pending(self) -> list[Doc]:
        cursor = self.db[OUTBOX].find({"sent_at": None}).sort("_id", ASCENDING).limit(self.batch_size)
        return await cursor.to_list(length=self.batch_size)

    async def publish(self, entries: list[Doc]) -> None:
        """Send every entry and wait until the broker acknowledged all of them."""
        futures = []
        for e in entries:
            fut = await self.producer.send(
                e["topic"],
                value=e["value"].encode(),
                key=e["key"].encode(),
                headers=[("event_type", e["type"].encode()), ("event_id", e["_id"].encode())],
            )
            futures.append(fut)
        await asyncio.gather(*futures)

    async def mark_sent(self, entries: list[Doc]) -> None:
        now = self.clock()
        await self.db[OUTBOX].update_many({"_id": {"$in": [e["_id"] for e in entries]}}, {"$set": {"sent_at": now}})
        for e in entries:
            PUBLISHED.labels(self.service, e["type"]).inc()
            created = e["created_at"]
            if created.tzinfo is None:
                created = created.replace(tzinfo=UTC)
            PUBLISH_LATENCY.labels(self.service).observe((now - created).total_seconds())

    async def relay_once(self) -> int:
        """Publish one batch of pending entries; returns how many were published."""
        entries = await self.fetch_pending()
        PENDING.labels(self.service).set(len(entries))
        if not entries:
            return 0
        await self.publish(entries)
        await self.mark_sent(entries)
        log.debug("outbox relayed", count=len(entries))
        return len(entries)

    async def acquire_lease(self) -> bool:
        """Take or renew the lease. It is also taken at once from a holder on this host whose
        process is gone (a service killed and restarted), instead of waiting for it to run out."""
        now = self.clock()
        until = now + timedelta(seconds=self.lease_seconds)
        claims: list[Doc] = [{"owner": self.owner}, {"expires_at": {"$lt": now}}]
        if (dead := await self._dead_holder()) is not None:
            claims.append({"owner": dead})
        try:
            await self.db[LEASES].find_one_and_update(
                {"_id": "relay", "$or": claims},
                {"$set": {"owner": self.owner, "host": self.host, "pid": self.pid, "expires_at": until}},
                upsert=True,
            )
        except DuplicateKeyError:
            self._lease_until = None
            return False
        self._lease_until = until
        return True

    async def _dead_holder(self) -> str | None:
        """The owner of the lease if it is a process of this host that no longer runs."""
        if self._lease_until is not None:
            return None  # ours
        held = await self.db[LEASES].find_one({"_id": "relay"})
        if not held or held.get("host") != self.host or held.get("owner") == self.owner:
            return None
        pid = held.get("pid")
        if not isinstance(pid, int) or pid == self.pid or _process_alive(pid):
            return None
        return str(held["owner"])

    async def release_lease(self) -> None:
        with contextlib.suppress(PyMongoError):
            await self.db[LEASES].delete_one({"_id": "relay", "owner": self.owner})

    async def run(self) -> None:
        backoff = 0.1
        while True:
            try:
                # renewed about every second, so a lease of a few seconds survives a slow round
                lease_ok = self._lease_until is not None and self._lease_until - self.clock() > timedelta(
                    seconds=max(self.lease_seconds - LEASE_RENEW_SECONDS, self.lease_seconds / 2)
                )
                if not lease_ok and not await self.acquire_lease():
                    await asyncio.sleep(min(self.lease_seconds / 6, 0.5))
                    continue
                self.wake.clear()
                sent = await self.relay_once()
                backoff = 0.1
                if sent < self.batch_size:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), timeout=self.poll_seconds)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database trouble: keep the entries, try again
                PUBLISH_ERRORS.labels(self.service).inc()
                log.warning("outbox relay round failed", error=str(exc), retry_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=f"outbox-relay-{self.service}")

    async def stop(self) -> None:
        await cancel(self._task)
        await self.release_lease()


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


__all__ = [
    "OUTBOX",
    "OutboxRelay",
    "Tx",
    "UnitOfWork",
    "ensure_outbox_indexes",
    "in_transaction",
    "outbox_document",
]
