"""Folding a batch: each fetched batch is folded and written in one MongoDB transaction together
with the partitions' next offsets and the batch's event ids, so it is applied whole or not at
all, once (live and in a rebuild)."""

from __future__ import annotations

import contextlib
import gc
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aiokafka import AIOKafkaProducer
from prometheus_client import Counter, Gauge, Histogram
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession

from readmodel_service.fold.parse import Parsed
from readmodel_service.fold.plan import FoldPlan
from readmodel_service.fold.repository import FoldStorage, seen_document, tp_key
from readmodel_service.fold.seen import SeenFilter, id_hash
from relocation_shared.clock import Clock, system_clock
from relocation_shared.logging import get_logger
from relocation_shared.mongo import Doc, in_transaction
from relocation_shared.pii import scrub
from relocation_shared.topics import DEAD_LETTER

log = get_logger(__name__)

FOLDED = Counter("readmodel_events_folded_total", "Events folded into the views", ["mode"])
DUPLICATES = Counter("readmodel_events_duplicate_total", "Redelivered events skipped")
DEAD = Counter("readmodel_events_dead_lettered_total", "Unparseable events sent to the dead-letter topic")
BATCH_SECONDS = Histogram("readmodel_batch_seconds", "Time to fold and commit one batch", ["mode"])
SEEN_IDS = Gauge("readmodel_seen_ids", "Event ids in the in-memory seen filter")

Extra = Callable[[AsyncClientSession], Any]


def tune_gc() -> None:
    """The fold holds batches of tens of thousands of parsed events, hundreds of thousands of
    objects that the cyclic collector, at its default thresholds (a young collection every 700
    allocations), scans again and again: parsing them ran 3.4 times slower than parsing the
    same events and dropping them. Collect young objects every 100,000 allocations instead, and
    leave what exists after start-up (modules, settings, the catalog) out of every scan."""
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


@dataclass(slots=True)
class Batch:
    """A fetched batch by partition: its records, first and next offsets, and its ids' hashes."""

    by_partition: dict[str, list[Parsed]]
    offsets: dict[str, int]
    firsts: dict[str, int]
    hashes: dict[str, int]
    committed: list[Doc] = field(default_factory=list)  # the seen documents, once written

    @classmethod
    def of(cls, batch: list[Parsed]) -> Batch:
        by_partition: dict[str, list[Parsed]] = defaultdict(list)
        for p in batch:
            by_partition[tp_key(p.topic, p.partition)].append(p)
        return cls(
            by_partition=by_partition,
            offsets={key: max(p.offset for p in ps) + 1 for key, ps in by_partition.items()},
            firsts={key: min(p.offset for p in ps) for key, ps in by_partition.items()},
            hashes={p.env.id: id_hash(p.env.id) for p in batch if p.env is not None},
        )

    def events_from(self, stored: dict[str, int]) -> dict[str, tuple[str, Parsed]]:
        """Event id → (partition, record) of the events at or past their partition's stored offset."""
        events: dict[str, tuple[str, Parsed]] = {}
        for key, ps in self.by_partition.items():
            floor = stored.get(key, 0)
            for p in ps:
                if p.env is not None and p.offset >= floor:
                    events.setdefault(p.env.id, (key, p))
        return events


class Folder:
    """Folds batches of parsed messages into one generation of the views, each batch in one
    transaction together with the partitions' next offsets: a batch is applied whole or not
    at all. A record below the offset stored for its partition (a redelivery) and an event
    whose id was folded before (a relay's resend, at a new offset) change nothing."""

    def __init__(
        self,
        client: AsyncMongoClient[Doc],
        store: FoldStorage,
        *,
        dlq: AIOKafkaProducer | None,
        mode: str,
        check_active: bool = True,
        clock: Clock = system_clock,
    ) -> None:
        self.client = client
        self.store = store
        self.dlq = dlq
        self.mode = mode
        self.check_active = check_active
        self.clock = clock
        self.seen = SeenFilter()

    async def load(self) -> None:
        """Read every seen document's hashes (at start and on a switch of generation)."""
        self.seen = SeenFilter()
        for doc in await self.store.seen_chunks():
            self.seen.add(doc)
        SEEN_IDS.set(len(self.seen))

    async def fold(self, batch: list[Parsed], *, extra: Extra | None = None) -> FoldPlan:
        started = time.perf_counter()
        for bad in (p for p in batch if p.env is None):
            await self._dead_letter(bad)
        prepared = Batch.of(batch)
        plan = await in_transaction(self.client, partial(self._fold_in_transaction, prepared, extra))
        for doc in prepared.committed:
            self.seen.add(doc)
        for key, next_offset in prepared.offsets.items():
            self.seen.covered[key] = max(self.seen.covered.get(key, 0), next_offset)
        SEEN_IDS.set(len(self.seen))
        FOLDED.labels(self.mode).inc(plan.folded)
        DUPLICATES.inc(plan.duplicates)
        BATCH_SECONDS.labels(self.mode).observe(time.perf_counter() - started)
        return plan

    async def _fold_in_transaction(self, batch: Batch, extra: Extra | None, session: AsyncClientSession) -> FoldPlan:
        """The transaction body (run again if the transaction is retried)."""
        if self.check_active:
            await self.store.check_generation(session)
        stored = await self.store.offsets_of(list(batch.offsets), session)
        await self._catch_up(stored, session)
        events = batch.events_from(stored)
        suspects = self.seen.maybe({i: batch.hashes[i] for i in events})
        folded_before = (
            await self.store.seen_ids_in(sorted({d for ds in suspects.values() for d in ds}), session)
            if suspects
            else set()
        )
        plan, fresh = self._plan(events, folded_before)
        seen = [
            seen_document(
                key,
                first=max(batch.firsts[key], stored.get(key, 0)),
                next_offset=batch.offsets[key],
                ids=ids,
                hashes=batch.hashes,
            )
            for key, ids in fresh.items()
        ]
        await self.store.write_fold(
            plan=plan,
            seen=seen,
            offsets={k: max(v, stored.get(k, 0)) for k, v in batch.offsets.items()},  # never back
            now=self.clock(),
            session=session,
        )
        if extra is not None:
            await extra(session)
        batch.committed[:] = seen
        plan.duplicates = len(batch.hashes) - plan.folded
        return plan

    async def _catch_up(self, stored: dict[str, int], session: AsyncClientSession) -> None:
        """Load the seen ids of partitions another instance folded since this one last looked."""
        for key, next_offset in stored.items():
            if next_offset > self.seen.covered.get(key, 0):
                for doc in await self.store.seen_chunks(
                    tp=key, from_offset=self.seen.covered.get(key, 0), session=session
                ):
                    self.seen.add(doc)
                self.seen.covered[key] = next_offset

    @staticmethod
    def _plan(events: dict[str, tuple[str, Parsed]], folded_before: set[str]) -> tuple[FoldPlan, dict[str, list[str]]]:
        """The batch's effect, and its fresh event ids by partition."""
        plan = FoldPlan()
        fresh: dict[str, list[str]] = defaultdict(list)
        for event_id, (key, p) in events.items():
            if event_id in folded_before:
                continue
            assert p.env is not None and p.payload is not None
            plan.add(p.env, p.payload)
            fresh[key].append(event_id)
        return plan, fresh

    async def _dead_letter(self, p: Parsed) -> None:
        DEAD.inc()
        log.warning("event dead-lettered", topic=p.topic, partition=p.partition, offset=p.offset, reason=p.error)
        if self.dlq is None or p.record is None:
            return
        value = p.record.value or b""
        with contextlib.suppress(UnicodeDecodeError):
            value = scrub(value.decode()).encode()
        await self.dlq.send_and_wait(
            DEAD_LETTER,
            value=value,
            key=p.record.key,
            headers=[
                ("dlq.reason", scrub(p.error or "")[:1000].encode()),
                ("dlq.group", b"readmodel"),
                ("dlq.topic", p.topic.encode()),
                ("dlq.partition", str(p.partition).encode()),
                ("dlq.offset", str(p.offset).encode()),
            ],
        )
