"""The read model's use cases: folding batches of events into the views (live and rebuild),
and answering the monitoring questions (views with their children, trends, as-of, the
zero-employment list, the live stream)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from bson import Binary
from prometheus_client import Counter, Gauge, Histogram
from pymongo import AsyncMongoClient, DeleteOne, ReplaceOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from readmodel_service.models import (
    EVENT_LABELS,
    FOLDS,
    INDICATORS,
    AreaRef,
    ChildView,
    Counters,
    EventHead,
    FeedItem,
    IndicatorValue,
    Trend,
    TrendPoint,
    View,
    ZeroHousehold,
    dated,
    rounded,
)
from readmodel_service.repository import (
    Doc,
    GenerationChanged,
    ViewStore,
    active_generation,
    next_generation,
    set_active_generation,
)
from relocation_shared.areas import LEVELS
from relocation_shared.auth import Principal
from relocation_shared.clock import Clock, business_today, system_clock
from relocation_shared.errors import InvalidInput, NotFound
from relocation_shared.events import CATALOG, EventPayload, InvalidEvent
from relocation_shared.events.employment import HouseholdZeroEmploymentCleared, HouseholdZeroEmploymentRaised
from relocation_shared.events.governance import AreaRegistered
from relocation_shared.kafka import partitions_of
from relocation_shared.logging import get_logger
from relocation_shared.mongo import in_transaction
from relocation_shared.pii import scrub
from relocation_shared.tasks import cancel
from relocation_shared.topics import DEAD_LETTER

log = get_logger(__name__)

FOLDED = Counter("readmodel_events_folded_total", "Events folded into the views", ["mode"])
DUPLICATES = Counter("readmodel_events_duplicate_total", "Redelivered events skipped")
DEAD = Counter("readmodel_events_dead_lettered_total", "Unparseable events sent to the dead-letter topic")
BATCH_SECONDS = Histogram("readmodel_batch_seconds", "Time to fold and commit one batch", ["mode"])
SEEN_IDS = Gauge("readmodel_seen_ids", "Event ids in the in-memory seen filter")
LAG = Gauge("readmodel_consumer_lag", "Messages behind the high-water mark", ["topic", "partition"])
FEED_PER_BATCH = 20
DAILY_LEVELS = 5  # province, city, county, town, community


def tune_gc() -> None:
    """The fold holds batches of tens of thousands of parsed events, hundreds of thousands of
    objects that the cyclic collector, at its default thresholds (a young collection every 700
    allocations), scans again and again: parsing them ran 3.4 times slower than parsing the
    same events and dropping them. Collect young objects every 100,000 allocations instead, and
    leave what exists after start-up (modules, settings, the catalog) out of every scan."""
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def tp_key(topic: str, partition: int) -> str:
    return f"{topic}:{partition}"


# ---------------------------------------------------------------------------------------------
# the fold: pure, from parsed events to the writes of one transaction


LEVEL_NAMES = [level.value for level in LEVELS]


@dataclass
class FoldPlan:
    """One batch's effect. `add` does the least per event (a batch folds tens of thousands):
    it sums the counter deltas per area path and business day; the views of every level, the
    daily ledger and the feed are drawn from those sums when asked for."""

    households: list[ReplaceOne | DeleteOne] = field(default_factory=list)
    folded: int = 0
    duplicates: int = 0
    names: dict[str, str] = field(default_factory=dict)
    paths: dict[tuple[str, ...], None] = field(default_factory=dict)  # in order of arrival
    sums: dict[tuple[tuple[str, ...], date], Counters] = field(default_factory=dict)  # by path and day
    latest: deque[tuple[EventHead, EventPayload]] = field(default_factory=lambda: deque(maxlen=FEED_PER_BATCH))
    # the roll-ups below, drawn once and kept until the next add
    rolled_views: dict[str, Counters] | None = field(default=None, repr=False)
    rolled_daily: dict[tuple[str, str], dict[str, Counters]] | None = field(default=None, repr=False)

    def add(self, env: EventHead, payload: EventPayload) -> None:
        path, kind = env.area_path, env.type
        self.rolled_views = self.rolled_daily = None
        self.paths[path] = None
        if kind in _SPECIAL:
            self._special(env, payload)
        fold = FOLDS.get(kind)
        if fold is not None:
            deltas = fold.deltas(payload)
            key = (path, fold.effective(env, payload))
            sums = self.sums.get(key)
            if sums is None:
                sums = self.sums[key] = {}
            for k, v in deltas.items():
                if v:
                    sums[k] = sums.get(k, 0) + v
        self.folded += 1
        if kind in EVENT_LABELS:  # the feed shows what officials follow, not the plumbing
            self.latest.append((env, payload))

    @property
    def view_meta(self) -> dict[str, Doc]:
        """Every area the batch touched, with its level, parent, path and (if registered) name."""
        meta: dict[str, Doc] = {}
        for path in self.paths:
            for i, code in enumerate(path):
                m = meta.setdefault(
                    code,
                    {
                        "level": LEVEL_NAMES[i] if i < len(LEVEL_NAMES) else "other",
                        "parent": path[i - 1] if i else None,
                    },
                )
                m["path"] = list(path[: i + 1])
        for code, name in self.names.items():
            if code in meta:
                meta[code]["name"] = name
        return meta

    @property
    def views(self) -> dict[str, Counters]:
        """Area → counter deltas, rolled up the path to the province."""
        if self.rolled_views is not None:
            return self.rolled_views
        views: dict[str, Counters] = defaultdict(lambda: defaultdict(int))
        for path, sums in roll_up((path, sums) for (path, _day), sums in self.sums.items()).items():
            views[path[-1]].update(sums)
        self.rolled_views = views
        return views

    @property
    def daily(self) -> dict[tuple[str, str], dict[str, Counters]]:
        """(bucket, day) → area → counter deltas: one ledger document per city and day, down
        to the community (trends and as-of are not kept per grid or building)."""
        if self.rolled_daily is not None:
            return self.rolled_daily
        by_day: dict[str, list[tuple[tuple[str, ...], Counters]]] = defaultdict(list)
        for (path, on), sums in self.sums.items():
            by_day[on.isoformat()].append((path[:DAILY_LEVELS], sums))
        daily: dict[tuple[str, str], dict[str, Counters]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
        for day, items in by_day.items():
            for path, sums in roll_up(items).items():
                daily[(bucket_of(path[-1]), day)][path[-1]].update(sums)
        self.rolled_daily = daily
        return daily

    @property
    def feed(self) -> list[Doc]:
        return [
            {
                "_id": env.id,
                "type": env.type,
                "label": EVENT_LABELS.get(env.type, env.type),
                "area_path": list(env.area_path),
                "at": env.occurred_at,
                "detail": _feed_detail(payload),
            }
            for env, payload in self.latest
        ]

    def _special(self, env: EventHead, p: EventPayload) -> None:
        """An area's name; the zero-employment list: a household is in it from its alert to
        its clearing."""
        if isinstance(p, AreaRegistered):
            self.names[p.code] = p.name
        elif isinstance(p, HouseholdZeroEmploymentRaised):
            self.households.append(
                ReplaceOne(
                    {"_id": p.household_id},
                    {"area_path": list(env.area_path), "labour": p.labour_count, "zero_since": p.since},
                    upsert=True,
                )
            )
        elif isinstance(p, HouseholdZeroEmploymentCleared):
            self.households.append(DeleteOne({"_id": p.household_id}))

    def daily_ids(self) -> list[str]:
        return [daily_id(bucket, day) for bucket, day in self.daily]

    def storage_ids(self) -> list[str]:
        return list(dict.fromkeys(storage_id(code) for path in self.paths for code in path))

    def documents(self, *, views: dict[str, Doc], daily: dict[str, Doc], now: datetime) -> tuple[list[Doc], list[Doc]]:
        """The touched view and ledger documents as they stand after this batch: the current
        ones (`views`, `daily`, by id, as read in the batch's transaction) with its deltas added.
        A grid's and a building's view live inside their community's document (`sub`)."""
        docs: dict[str, Doc] = {}
        deltas_of = self.views
        for code, meta in self.view_meta.items():
            sid = storage_id(code)
            if sid not in docs:
                docs[sid] = dict(views.get(sid) or {"_id": sid})
                if "sub" in docs[sid]:
                    docs[sid]["sub"] = dict(docs[sid]["sub"])
            doc = docs[sid]
            if sid == code:
                target = doc
            else:
                sub = doc.setdefault("sub", {})
                target = sub[code] = dict(sub.get(code) or {})
            target.update(meta)
            counters = dict(target.get("counters") or {})
            for k, v in deltas_of.get(code, {}).items():
                if v:
                    counters[k] = counters.get(k, 0) + v
            target["counters"] = counters
            target["updated_at"] = now
            doc["updated_at"] = now
        daily_docs = []
        for (bucket, day), deltas in self.daily.items():
            if not any(v for area in deltas.values() for v in area.values()):
                continue
            key = daily_id(bucket, day)
            current = daily.get(key) or {}
            areas = {code: dict(c) for code, c in (current.get("areas") or {}).items()}
            for code, area_deltas in deltas.items():
                area = areas.setdefault(code, {})
                for k, v in area_deltas.items():
                    if v:
                        area[k] = area.get(k, 0) + v
            daily_docs.append({"_id": key, "bucket": bucket, "day": day, "areas": areas})
        return list(docs.values()), daily_docs


def roll_up(items: Iterable[tuple[tuple[str, ...], Counters]]) -> dict[tuple[str, ...], Counters]:
    """Counter sums for every path and every prefix of it (a building's sums go into its grid,
    community, ... province), added up one level at a time: each area's sums are added into
    its parent once, not once for every path below it."""
    acc: dict[tuple[str, ...], Counters] = {}
    for path, sums in items:
        _add_into(acc.setdefault(path, {}), sums)
    for depth in range(max((len(p) for p in acc), default=0), 1, -1):
        for path in [p for p in acc if len(p) == depth]:
            _add_into(acc.setdefault(path[:-1], {}), acc[path])
    return acc


_SPECIAL = frozenset(
    {AreaRegistered.event_type, HouseholdZeroEmploymentRaised.event_type, HouseholdZeroEmploymentCleared.event_type}
)


def _add_into(into: Counters, deltas: Counters) -> None:
    for k, v in deltas.items():
        into[k] = into.get(k, 0) + v


def storage_id(code: str) -> str:
    """The view document an area's view is kept in: its own, or for a grid or a building
    (520330001001-G01-B02) its community's (520330001001)."""
    return code.split("-", 1)[0]


def daily_id(bucket: str, day: str) -> str:
    return f"{bucket}|{day}"


def bucket_of(code: str) -> str:
    """The daily ledger keeps one document per city and day, holding the city, its counties,
    towns and communities (their codes share its four-digit prefix); the province has its own.
    A batch writes each of its days once, whichever counties it touched."""
    return code[:4]


def _feed_detail(p: EventPayload) -> Doc:
    keep = (
        "employment_type",
        "monthly_wage",
        "employer",
        "course",
        "kind",
        "name",
        "labour_count",
        "cause",
        "category",
        "score",
        "service",
        "amount_fen",
        "to_status",
        "successful",
    )
    data = p.model_dump(mode="json")
    return {k: data[k] for k in keep if k in data}


@dataclass(slots=True, frozen=True)
class Head:
    """The envelope fields the fold reads; the envelope itself (and its payload as a dict, which
    the payload model repeats) is let go at once: half the memory a parsed event holds."""

    id: str
    type: str
    area_path: tuple[str, ...]
    occurred_at: datetime


@dataclass(slots=True)
class Parsed:
    topic: str
    partition: int
    offset: int
    env: EventHead | None
    payload: EventPayload | None
    error: str | None = None
    record: ConsumerRecord[bytes, bytes] | None = None


def parse(record: ConsumerRecord[bytes, bytes]) -> Parsed:
    try:
        env, payload = CATALOG.parse(record.value or b"")
    except InvalidEvent as exc:
        return Parsed(record.topic, record.partition, record.offset, None, None, exc.reason, record)
    head = Head(env.id, env.type, env.area_path, env.occurred_at)
    return Parsed(record.topic, record.partition, record.offset, head, payload)


def id_hash(event_id: str) -> int:
    """64 bits of an event id: for a canonical UUID (the platform's ids are UUIDv7) its last 16
    hex digits, random in a v7 or v4; for anything else a BLAKE2b digest. A match is only a
    suspicion, confirmed against the stored ids, so the hash needs to spread, not to be secret."""
    if len(event_id) == 36 and event_id[23] == "-":
        try:
            return int(event_id[19:23] + event_id[24:], 16)
        except ValueError:
            pass
    return int.from_bytes(hashlib.blake2b(event_id.encode(), digest_size=8).digest(), "little")


class SeenFilter:
    """Which event ids one generation has folded, asked without a database round trip for
    each: an 8-byte hash of every id (numpy arrays, 12 bytes an id), each pointing to the seen
    document that holds the id. Only a hash that matches (a real duplicate, or a collision) is
    confirmed against that document, so the answer is exact.

    A seen document holds one partition's fresh ids of one batch. `covered` tells, per
    partition, up to which offset the filter knows them: when the offsets stored with the views
    are further (another instance folded that partition since), the documents in between are
    read first. A duplicate is looked for on every partition the filter has loaded: all of them
    at start, and since then the partitions this instance folds.

    New documents wait in `pending` (one array each) and are merged into the sorted arrays
    once they hold MERGE_AT ids, so adding a batch costs no Python work per id."""

    MERGE_AT = 200_000

    def __init__(self) -> None:
        self.docs: list[str] = []
        self.known: set[str] = set()
        self.hashes = np.empty(0, dtype=np.uint64)
        self.where = np.empty(0, dtype=np.uint32)
        self.pending: list[tuple[np.ndarray[Any, np.dtype[np.uint64]], int]] = []
        self.pending_ids = 0
        self.covered: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.hashes) + self.pending_ids

    def add(self, doc: Doc) -> None:
        """A seen document (its `_id`, `tp`, `next` and `h`, the packed hashes) now committed."""
        if doc["_id"] in self.known:
            return
        self.known.add(doc["_id"])
        self.docs.append(doc["_id"])
        hashes = np.frombuffer(doc["h"], dtype="<u8").astype(np.uint64)
        self.pending.append((hashes, len(self.docs) - 1))
        self.pending_ids += len(hashes)
        self.covered[doc["tp"]] = max(self.covered.get(doc["tp"], 0), doc["next"])
        if self.pending_ids >= self.MERGE_AT:
            self._merge()

    def _merge(self) -> None:
        hashes = np.concatenate([self.hashes, *(h for h, _ in self.pending)])
        where = np.concatenate([self.where, *(np.full(len(h), index, dtype=np.uint32) for h, index in self.pending)])
        order = np.argsort(hashes, kind="stable")
        self.hashes, self.where = hashes[order], where[order]
        self.pending, self.pending_ids = [], 0

    def maybe(self, hashes: dict[str, int]) -> dict[str, list[str]]:
        """Of these ids (id → hash), the ones whose hash the filter holds, with the documents to
        look in."""
        out: dict[str, list[str]] = {}
        if not hashes:
            return out
        ids = list(hashes)
        wanted = np.fromiter(hashes.values(), np.uint64, len(ids))
        left = np.searchsorted(self.hashes, wanted, side="left")
        right = np.searchsorted(self.hashes, wanted, side="right")
        for k in np.nonzero(right > left)[0].tolist():
            out[ids[k]] = [self.docs[i] for i in self.where[left[k] : right[k]].tolist()]
        if self.pending:  # each pending chunk looked up in the sorted batch, not the other way round
            order = np.argsort(wanted, kind="stable")
            ranked = wanted[order]
            for chunk, index in self.pending:
                lo = np.searchsorted(ranked, chunk, side="left")
                hi = np.searchsorted(ranked, chunk, side="right")
                for j in np.nonzero(hi > lo)[0].tolist():
                    for k in order[lo[j] : hi[j]].tolist():
                        out.setdefault(ids[k], []).append(self.docs[index])
        return out


class Folder:
    """Folds batches of parsed messages into one generation of the views, each batch in one
    transaction together with the partitions' next offsets: a batch is applied whole or not
    at all. A record below the offset stored for its partition (a redelivery) and an event
    whose id was folded before (a relay's resend, at a new offset) change nothing."""

    def __init__(
        self,
        client: AsyncMongoClient[Doc],
        store: ViewStore,
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

    async def fold(self, batch: list[Parsed], *, extra: Callable[[AsyncClientSession], Any] | None = None) -> FoldPlan:
        started = time.perf_counter()
        for bad in (p for p in batch if p.env is None):
            await self._dead_letter(bad)
        by_partition: dict[str, list[Parsed]] = defaultdict(list)
        for p in batch:
            by_partition[tp_key(p.topic, p.partition)].append(p)
        offsets = {key: max(p.offset for p in ps) + 1 for key, ps in by_partition.items()}
        firsts = {key: min(p.offset for p in ps) for key, ps in by_partition.items()}
        hashes = {p.env.id: id_hash(p.env.id) for p in batch if p.env is not None}
        committed: list[Doc] = []

        async def work(session: AsyncClientSession) -> FoldPlan:
            if self.check_active:
                await self.store.check_generation(session)
            stored = await self.store.offsets_of(list(offsets), session)
            for key, next_offset in stored.items():  # another instance folded these partitions since
                if next_offset > self.seen.covered.get(key, 0):
                    for doc in await self.store.seen_chunks(
                        tp=key, from_offset=self.seen.covered.get(key, 0), session=session
                    ):
                        self.seen.add(doc)
                    self.seen.covered[key] = next_offset
            events: dict[str, tuple[str, Parsed]] = {}
            for key, ps in by_partition.items():
                floor = stored.get(key, 0)
                for p in ps:
                    if p.env is not None and p.offset >= floor:
                        events.setdefault(p.env.id, (key, p))
            suspects = self.seen.maybe({i: hashes[i] for i in events})
            folded_before = (
                await self.store.seen_ids_in(sorted({d for ds in suspects.values() for d in ds}), session)
                if suspects
                else set()
            )
            plan = FoldPlan()
            fresh: dict[str, list[str]] = defaultdict(list)
            for event_id, (key, p) in events.items():
                if event_id in folded_before:
                    continue
                assert p.env is not None and p.payload is not None
                plan.add(p.env, p.payload)
                fresh[key].append(event_id)
            views, daily = plan.documents(
                views=await self.store.current_views(plan.storage_ids(), session),
                daily=await self.store.current_daily(plan.daily_ids(), session),
                now=self.clock(),
            )
            starts = {key: max(firsts[key], stored.get(key, 0)) for key in fresh}
            seen = [
                {
                    "_id": f"{key}@{starts[key]}",
                    "tp": key,
                    "first": starts[key],
                    "next": offsets[key],
                    "n": len(ids),
                    "ids": ids if any("\n" in i for i in ids) else "\n".join(ids),
                    "h": Binary(np.fromiter((hashes[i] for i in ids), "<u8", len(ids)).tobytes()),
                }
                for key, ids in fresh.items()
            ]
            await self.store.write_fold(
                views=views,
                daily=daily,
                households=plan.households,
                seen=seen,
                offsets={k: max(v, stored.get(k, 0)) for k, v in offsets.items()},  # never back
                feed=plan.feed,
                session=session,
            )
            if extra is not None:
                await extra(session)
            committed[:] = seen
            plan.duplicates = len(hashes) - plan.folded
            return plan

        plan = await in_transaction(self.client, work)
        for doc in committed:
            self.seen.add(doc)
        for key, next_offset in offsets.items():
            self.seen.covered[key] = max(self.seen.covered.get(key, 0), next_offset)
        SEEN_IDS.set(len(self.seen))
        FOLDED.labels(self.mode).inc(plan.folded)
        DUPLICATES.inc(plan.duplicates)
        BATCH_SECONDS.labels(self.mode).observe(time.perf_counter() - started)
        return plan

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


Positions = dict[TopicPartition, int]  # the next offset after the records handed over, by partition


class Prefetcher:
    """Fetches and parses records ahead, up to a batch, while the batch before is folded (its
    transaction spends much of its time waiting on the database). `take` hands over what is
    buffered: at once when the partitions are caught up (a few records under a light load, so
    views follow within the second); when they are well behind (a backlog, a replay) it lets
    the batch fill first, for a fold costs about the same for 5,000 events as for 50,000 (it
    writes each touched view once), but not for longer than `fill_seconds`."""

    def __init__(
        self, consumer: AIOKafkaConsumer, *, batch_max: int, poll_ms: int = 100, fill_seconds: float = 0.5
    ) -> None:
        self.consumer = consumer
        self.batch_max = batch_max
        self.poll_ms = poll_ms
        self.fill_seconds = fill_seconds
        # behind by this many records in all (the fetcher's own prefetching keeps the high-water
        # marks a little ahead of what was handed over even under a light load): a backlog
        self.backlog = max(1, batch_max // 10)
        self.next: Positions = {}
        self.parsed: list[Parsed] = []
        self.behind: dict[TopicPartition, int] = {}  # by partition, as of its last fetched records
        self.last_poll_empty = False
        self.polled = asyncio.Event()
        self.room = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name="readmodel-prefetch")

    async def stop(self) -> None:
        await cancel(self.task)
        self.task = None
        self.clear()

    def clear(self) -> None:
        self.next = {}
        self.parsed = []
        self.behind = {}
        self.room.set()

    async def _run(self) -> None:
        while True:
            room = self.batch_max - len(self.parsed)
            if room <= 0:
                self.room.clear()
                await self.room.wait()
                continue
            got = await self.consumer.getmany(timeout_ms=self.poll_ms, max_records=room)
            parsed = await parse_all(r for recs in got.values() for r in recs)
            for tp, recs in got.items():  # records and their parsing join the buffer together
                if recs:
                    self.next[tp] = recs[-1].offset + 1
                    high = self.consumer.highwater(tp)
                    if high is not None:
                        self.behind[tp] = max(0, high - self.next[tp])
            self.parsed.extend(parsed)
            self.last_poll_empty = not parsed
            self.polled.set()

    async def take(self) -> tuple[Positions, list[Parsed]]:
        """What is buffered (see the class); if nothing is, what the next poll brings, maybe
        nothing."""
        assert self.task is not None, "start() first"
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        while not self.task.done():
            if len(self.parsed) >= self.batch_max:
                break
            if self.parsed:
                if sum(self.behind.values()) < self.backlog:
                    break
                deadline = deadline or loop.time() + self.fill_seconds
                if loop.time() >= deadline:
                    break
            self.polled.clear()
            waiter = asyncio.ensure_future(self.polled.wait())
            try:
                await asyncio.wait(
                    {waiter, self.task},
                    timeout=None if deadline is None else max(0.0, deadline - loop.time()),
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                waiter.cancel()
            if self.last_poll_empty:
                break  # nothing came: caught up
        if self.task.done():
            self.task.result()  # the fetcher failed: its error is raised here
        positions, parsed = self.next, self.parsed
        self.next, self.parsed = {}, []
        self.room.set()
        return positions, parsed


# ---------------------------------------------------------------------------------------------
# the live consumer


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, owner: ViewConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        for tp in revoked:
            with contextlib.suppress(KeyError):
                LAG.remove(tp.topic, str(tp.partition))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        if self.owner.prefetch is not None:
            self.owner.prefetch.clear()  # fetched before the rebalance, from positions now reset
        await self.owner.seek_stored(assigned)


class ViewConsumer:
    """Consumes every service topic in one group and folds each fetched batch. Positions come
    from the offsets stored with the views (on start, on rebalance, on a generation switch),
    not from Kafka's committed offsets, which are committed too but only for lag monitoring."""

    def __init__(
        self,
        *,
        client: AsyncMongoClient[Doc],
        db: AsyncDatabase[Doc],
        bootstrap: str,
        group_id: str,
        topics: list[str],
        dlq: AIOKafkaProducer,
        batch_max: int = 2000,
        clock: Clock = system_clock,
    ) -> None:
        self.clock = clock
        self.client = client
        self.db = db
        self.bootstrap = bootstrap
        self.group_id = group_id
        self.topics = topics
        self.dlq = dlq
        self.batch_max = batch_max
        self.store = ViewStore(db, 1)
        self.consumer: AIOKafkaConsumer | None = None
        self.task: asyncio.Task[None] | None = None
        self.caught_up = asyncio.Event()
        self.prefetch: Prefetcher | None = None

    async def start(self) -> None:
        tune_gc()
        self.store = ViewStore(self.db, await active_generation(self.db))
        await self.store.ensure_indexes()
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            client_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        await self.consumer.start()
        self.consumer.subscribe(self.topics, listener=_Rebalance(self))
        self.task = asyncio.create_task(self.run(), name="readmodel-consumer")

    async def stop(self) -> None:
        await cancel(self.task)
        if self.consumer is not None:
            await self.consumer.stop()

    async def seek_stored(self, partitions: list[TopicPartition] | set[TopicPartition]) -> None:
        assert self.consumer is not None
        stored = await self.store.stored_offsets()
        for tp in partitions:
            offset = stored.get(tp_key(tp.topic, tp.partition))
            if offset is not None:
                self.consumer.seek(tp, offset)
            elif await self.consumer.committed(tp) is not None:
                # Kafka remembers a position the views do not have (their database was emptied):
                # start over. Without one the fetcher already starts at the beginning (earliest),
                # and a needless reset would have it fetch the first records twice.
                await self.consumer.seek_to_beginning(tp)

    async def run(self) -> None:
        """Fold batch after batch; the next batch is fetched and parsed while the current one's
        transaction waits on the database."""
        assert self.consumer is not None
        folder = Folder(self.client, self.store, dlq=self.dlq, mode="live", clock=self.clock)
        await folder.load()
        self.prefetch = Prefetcher(self.consumer, batch_max=self.batch_max)
        self.prefetch.start()
        try:
            while True:
                positions, batch = await self.prefetch.take()
                if not batch:
                    self.caught_up.set()
                    continue
                while True:
                    try:
                        await folder.fold(batch)
                        break
                    except GenerationChanged:
                        await self.prefetch.stop()  # what it holds was fetched from the old positions
                        self.store = ViewStore(self.db, await active_generation(self.db))
                        folder = Folder(self.client, self.store, dlq=self.dlq, mode="live", clock=self.clock)
                        await folder.load()
                        await self.seek_stored(self.consumer.assignment())
                        self.prefetch.start()
                        log.info("switched to a rebuilt generation", generation=self.store.generation)
                        batch = []
                        break
                    except PyMongoError as exc:  # the database is away: keep the batch, try again
                        log.warning("fold failed, retrying", error=str(exc))
                        await asyncio.sleep(0.5)
                for tp, next_offset in positions.items():
                    high = self.consumer.highwater(tp)
                    if high is not None:
                        LAG.labels(tp.topic, str(tp.partition)).set(max(0, high - next_offset))
                if batch:
                    with contextlib.suppress(Exception):  # informational only: positions live in MongoDB
                        await self.consumer.commit(positions)
        finally:
            await self.prefetch.stop()


async def parse_all(records: Iterable[ConsumerRecord[bytes, bytes]]) -> list[Parsed]:
    """Parse records, giving the event loop a turn every hundred (a database round trip of
    the batch before may be waiting for its answer)."""
    out: list[Parsed] = []
    for r in records:
        out.append(parse(r))
        if len(out) % 100 == 0:
            await asyncio.sleep(0)
    return out


# ---------------------------------------------------------------------------------------------
# rebuild


async def rebuild(
    *,
    client: AsyncMongoClient[Doc],
    db: AsyncDatabase[Doc],
    bootstrap: str,
    topics: list[str],
    batch_max: int = 50_000,
    progress: Callable[[int, int], None] | None = None,
    switch: bool = True,
    clock: Clock = system_clock,
) -> int:
    """Replay every topic from the beginning into a fresh generation and, once it has caught up
    with the end offsets taken at the start, make it the active one. Returns its number."""
    tune_gc()
    generation = await next_generation(db)
    store = ViewStore(db, generation)
    await store.drop()
    await store.ensure_indexes()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    try:
        partitions = await partitions_of(bootstrap, topics)
        consumer.assign(partitions)
        begins = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, begins[tp])
        total = sum(ends[tp] - begins[tp] for tp in partitions)
        done = 0
        folder = Folder(client, store, dlq=None, mode="rebuild", check_active=False, clock=clock)
        remaining = {tp for tp in partitions if ends[tp] > begins[tp]}
        consumer.pause(*(set(partitions) - remaining))
        positions = {tp: begins[tp] for tp in partitions}
        # the next batch is fetched and parsed while the current one's transaction waits
        prefetch = Prefetcher(consumer, batch_max=batch_max, poll_ms=500)
        prefetch.start()
        try:
            while remaining:
                next_offsets, parsed = await prefetch.take()
                batch = [p for p in parsed if p.offset < ends[TopicPartition(p.topic, p.partition)]]
                for tp, next_offset in next_offsets.items():
                    positions[tp] = max(positions[tp], next_offset)
                    if positions[tp] >= ends[tp] and tp in remaining:
                        remaining.discard(tp)
                        consumer.pause(tp)  # what comes after the rebuild started is the live consumer's
                        prefetch.behind.pop(tp, None)
                if batch:
                    await folder.fold(batch)
                    done += len(batch)
                    if progress:
                        progress(done, total)
        finally:
            await prefetch.stop()

        async def finish(session: AsyncClientSession) -> None:
            await store.write_fold(
                views=[],
                daily=[],
                households=[],
                seen=[],
                offsets={tp_key(tp.topic, tp.partition): ends[tp] for tp in partitions},
                feed=[],
                session=session,
            )
            if switch:
                await set_active_generation(db, generation, session, now=clock())

        await in_transaction(client, finish)
    finally:
        await consumer.stop()
    if switch:
        for old in range(1, generation - 1):  # keep the previous generation for comparison
            await ViewStore(db, old).drop()
    return generation


# ---------------------------------------------------------------------------------------------
# queries


def evaluate(
    counters: Counters, *, code: str, level: str, targets: dict[str, dict[str, float]], on: date
) -> list[IndicatorValue]:
    """The indicators of an area's counters as read on business day `on`."""
    out = []
    counters = dated(counters, on)
    for ind in INDICATORS.values():
        value = rounded(ind.compute(counters), ind.decimals)
        target = target_for(targets, ind.key, code=code, level=level)
        gap = met = None
        if target is not None and value is not None:
            gap = round(value - target, ind.decimals)
            met = value >= target if ind.better == "higher" else value <= target
        out.append(
            IndicatorValue(
                key=ind.key,
                label=ind.label,
                group=ind.group,
                unit=ind.unit,
                value=value,
                target=target,
                gap=gap,
                met=met,
                better=ind.better,
                headline=ind.headline,
            )
        )
    return out


def target_for(targets: dict[str, dict[str, float]], key: str, *, code: str, level: str) -> float | None:
    by = targets.get(key)
    if not by:
        return None
    for k in (code, level, "default"):
        if k in by:
            return by[k]
    return None


def _area(doc: Doc) -> AreaRef:
    return AreaRef(
        code=doc["_id"], name=doc.get("name") or doc["_id"], level=doc.get("level", ""), path=doc.get("path", [])
    )


def view_from(doc: Doc, *, targets: dict[str, dict[str, float]], on: date, children: list[Doc] | None = None) -> View:
    counters = dict(doc.get("counters", {}))
    return View(
        area=_area(doc),
        updated_at=doc["updated_at"].isoformat() if doc.get("updated_at") else None,
        indicators=evaluate(counters, code=doc["_id"], level=doc.get("level", ""), targets=targets, on=on),
        counters=counters,
        children=[_child(c, targets, on) for c in children or []],
    )


def _child(doc: Doc, targets: dict[str, dict[str, float]], on: date) -> ChildView:
    counters = dict(doc.get("counters", {}))
    values = evaluate(counters, code=doc["_id"], level=doc.get("level", ""), targets=targets, on=on)
    return ChildView(
        area=_area(doc),
        values={v.key: v.value for v in values if v.headline},
        met={v.key: v.met for v in values if v.headline},
        targets={v.key: v.target for v in values if v.headline and v.target is not None},
        counters=counters,
    )


class ReadModelService:
    def __init__(self, *, db: AsyncDatabase[Doc], targets: dict[str, dict[str, float]], clock: Clock) -> None:
        self.db = db
        self.targets = targets
        self.clock = clock

    async def store(self) -> ViewStore:
        return ViewStore(self.db, await active_generation(self.db))

    async def _view_doc(self, store: ViewStore, principal: Principal, code: str) -> Doc:
        doc = await store.view(code)
        if doc is None:
            raise NotFound("该区域暂无数据", field="area")
        principal.require_area(doc.get("path") or [code], field="area")
        return doc

    async def view(self, *, principal: Principal, area: str) -> View:
        store = await self.store()
        doc = await self._view_doc(store, principal, area)
        return view_from(doc, targets=self.targets, on=business_today(self.clock), children=await store.children(area))

    async def as_of(self, *, principal: Principal, area: str, on: date) -> View:
        store = await self.store()
        doc = await self._view_doc(store, principal, area)
        counters: dict[str, int] = defaultdict(int)
        for day in await store.daily(area, bucket_of(area), until=on):
            for k, v in day.get("areas", {}).get(area, {}).items():
                counters[k] += v
        view = view_from({**doc, "counters": dict(counters)}, targets=self.targets, on=on)
        view.as_of = on
        return view

    async def trend(self, *, principal: Principal, area: str, indicator: str, since: date | None) -> Trend:
        ind = INDICATORS.get(indicator)
        if ind is None:
            raise InvalidInput("未知指标", field="indicator")
        store = await self.store()
        doc = await self._view_doc(store, principal, area)
        counters: dict[str, int] = defaultdict(int)
        points: list[TrendPoint] = []
        for day in await store.daily(area, bucket_of(area)):
            deltas = day.get("areas", {}).get(area)
            if not deltas:
                continue
            for k, v in deltas.items():
                counters[k] += v
            d = date.fromisoformat(day["day"])
            if since is None or d >= since:
                points.append(TrendPoint(date=d, value=rounded(ind.compute(dated(counters, d)), ind.decimals)))
        return Trend(
            area=_area(doc),
            indicator=ind.key,
            label=ind.label,
            unit=ind.unit,
            target=target_for(self.targets, ind.key, code=area, level=doc.get("level", "")),
            points=points,
        )

    async def zero_households(self, *, principal: Principal, area: str, limit: int) -> list[ZeroHousehold]:
        store = await self.store()
        await self._view_doc(store, principal, area)
        now = self.clock()
        out = []
        for h in await store.zero_households(area, limit=limit):
            since: datetime = h["zero_since"]
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            path = h.get("area_path", [])
            out.append(
                ZeroHousehold(
                    household_id=h["_id"],
                    area_path=path,
                    community=path[4] if len(path) > 4 else None,
                    building=path[6] if len(path) > 6 else None,
                    labour_count=h.get("labour", 0),
                    since=since.isoformat(),
                    days_at_zero=(now - since).days,
                )
            )
        return out

    async def feed(self, *, principal: Principal, area: str, limit: int) -> list[FeedItem]:
        store = await self.store()
        await self._view_doc(store, principal, area)
        return [_feed_item(d) for d in await store.feed(area, limit=limit)]

    async def stream(self, *, principal: Principal, area: str) -> AsyncIterator[tuple[str, str]]:
        """Server-sent events for an area: its view whenever it changes, and each new event in it.
        Served from MongoDB change streams, so every instance sees every change."""
        store = await self.store()
        doc = await self._view_doc(store, principal, area)
        pipeline = [
            {
                "$match": {
                    "$or": [
                        {"ns.coll": store.views.name, "documentKey._id": {"$in": [storage_id(area)]}},
                        {"ns.coll": store.views.name, "fullDocument.parent": area},
                        {"ns.coll": store.coll("feed").name, "operationType": "insert", "fullDocument.area_path": area},
                    ]
                }
            }
        ]
        async with await self.db.watch(pipeline, full_document="updateLookup", max_await_time_ms=200) as changes:
            # the first view is read once the change stream is open: no change falls between the two
            doc = await store.view(area) or doc
            today = business_today(self.clock)
            children = await store.children(area)
            yield "view", view_from(doc, targets=self.targets, on=today, children=children).model_dump_json()
            last_push = last_ping = last_check = time.monotonic()
            pending = False
            while True:
                change = await changes.try_next()
                now = time.monotonic()
                if change is not None and change["ns"]["coll"] == store.coll("feed").name:
                    yield "feed", _feed_item(change.get("fullDocument") or {}).model_dump_json()
                    continue
                if change is not None:
                    pending = True
                # at most five view updates a second per client; a deferred one is sent, never dropped
                if pending and now - last_push >= 0.2:
                    current = await store.view(area)
                    if current is not None:
                        view = view_from(
                            current,
                            targets=self.targets,
                            on=business_today(self.clock),
                            children=await store.children(area),
                        )
                        yield "view", view.model_dump_json()
                    pending = False
                    last_push = last_ping = now
                elif now - last_ping >= 15:
                    yield "ping", "{}"
                    last_ping = now
                if change is None and now - last_check >= 2:
                    last_check = now
                    if await active_generation(self.db) != store.generation:
                        return  # a rebuild switched generations: the client reconnects


def _feed_item(d: Doc) -> FeedItem:
    at = d["at"]
    if isinstance(at, datetime) and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return FeedItem(
        event_id=d["_id"],
        type=d["type"],
        label=d["label"],
        area_path=d["area_path"],
        at=at.isoformat() if isinstance(at, datetime) else str(at),
        detail=d.get("detail", {}),
    )
