"""The read model's use cases: folding batches of events into the views (live and rebuild),
and answering the monitoring questions (views with their children, trends, as-of, the
zero-employment list, the live stream)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from prometheus_client import Counter, Gauge, Histogram
from pymongo import AsyncMongoClient, DeleteOne, ReplaceOne, UpdateOne
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
    FeedItem,
    IndicatorValue,
    Trend,
    TrendPoint,
    View,
    ZeroHousehold,
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
from relocation_shared.errors import InvalidInput, NotFound
from relocation_shared.events import CATALOG, Envelope, EventPayload, InvalidEvent
from relocation_shared.events.employment import HouseholdZeroEmploymentCleared, HouseholdZeroEmploymentRaised
from relocation_shared.events.governance import AreaRegistered
from relocation_shared.kafka import partitions_of
from relocation_shared.logging import get_logger
from relocation_shared.mongo import in_transaction
from relocation_shared.pii import scrub
from relocation_shared.topics import DEAD_LETTER

log = get_logger(__name__)

FOLDED = Counter("readmodel_events_folded_total", "Events folded into the views", ["mode"])
DUPLICATES = Counter("readmodel_events_duplicate_total", "Redelivered events skipped")
DEAD = Counter("readmodel_events_dead_lettered_total", "Unparseable events sent to the dead-letter topic")
BATCH_SECONDS = Histogram("readmodel_batch_seconds", "Time to fold and commit one batch", ["mode"])
LAG = Gauge("readmodel_consumer_lag", "Messages behind the high-water mark", ["topic", "partition"])
FEED_PER_BATCH = 20
DAILY_LEVELS = 5  # province, city, county, town, community


def tp_key(topic: str, partition: int) -> str:
    return f"{topic}:{partition}"


# ---------------------------------------------------------------------------------------------
# the fold: pure, from parsed events to the writes of one transaction


@dataclass
class FoldPlan:
    views: dict[str, Counters] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    view_meta: dict[str, Doc] = field(default_factory=dict)
    # (bucket, day) → area → counter deltas: one ledger document per county and day
    daily: dict[tuple[str, str], dict[str, Counters]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    )
    households: list[ReplaceOne | DeleteOne] = field(default_factory=list)
    feed: list[Doc] = field(default_factory=list)
    folded: int = 0

    def add(self, env: Envelope, payload: EventPayload) -> None:
        path = list(env.area_path)
        for i, code in enumerate(path):
            meta = self.view_meta.setdefault(
                code, {"level": LEVELS[i].value if i < len(LEVELS) else "other", "parent": path[i - 1] if i else None}
            )
            meta["path"] = path[: i + 1]
        if isinstance(payload, AreaRegistered):
            self.view_meta[payload.code]["name"] = payload.name
        self._household(env, payload)
        fold = FOLDS.get(env.type)
        if fold is not None:
            deltas = {k: v for k, v in fold.deltas(payload).items() if v}
            if deltas:
                day = fold.effective(env, payload).isoformat()
                for i, code in enumerate(path):
                    view = self.views[code]
                    for k, v in deltas.items():
                        view[k] += v
                    if i < DAILY_LEVELS:  # trends and as-of down to the community, not per building
                        daily = self.daily[(bucket_of(code), day)][code]
                        for k, v in deltas.items():
                            daily[k] += v
        self.folded += 1
        if env.type not in EVENT_LABELS:  # the feed shows what officials follow, not the plumbing
            return
        self.feed.append(
            {
                "_id": env.id,
                "type": env.type,
                "label": EVENT_LABELS.get(env.type, env.type),
                "area_path": path,
                "at": env.occurred_at,
                "detail": _feed_detail(payload),
            }
        )
        if len(self.feed) > FEED_PER_BATCH:
            self.feed.pop(0)

    def _household(self, env: Envelope, p: EventPayload) -> None:
        """The zero-employment list: a household is in it from its alert to its clearing."""
        if isinstance(p, HouseholdZeroEmploymentRaised):
            self.households.append(
                ReplaceOne(
                    {"_id": p.household_id},
                    {"area_path": list(env.area_path), "labour": p.labour_count, "zero_since": p.since},
                    upsert=True,
                )
            )
        elif isinstance(p, HouseholdZeroEmploymentCleared):
            self.households.append(DeleteOne({"_id": p.household_id}))

    def writes(self) -> tuple[list[UpdateOne], list[UpdateOne]]:
        now = datetime.now(UTC)
        views = []
        for code, meta in self.view_meta.items():
            update: Doc = {"$set": {**meta, "updated_at": now}}
            counters = {f"counters.{k}": v for k, v in self.views.get(code, {}).items() if v}
            if counters:
                update["$inc"] = counters
            views.append(UpdateOne({"_id": code}, update, upsert=True))
        daily = []
        for (bucket, day), areas in self.daily.items():
            inc = {f"areas.{code}.{k}": v for code, deltas in areas.items() for k, v in deltas.items() if v}
            if inc:
                daily.append(
                    UpdateOne(
                        {"_id": f"{bucket}|{day}"}, {"$inc": inc, "$set": {"bucket": bucket, "day": day}}, upsert=True
                    )
                )
        return views, daily


def bucket_of(code: str) -> str:
    """The daily ledger keeps one document per county and day: towns, communities (and their
    grids) share their county's six-digit prefix; the province and the city have their own."""
    return code[:6]


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


@dataclass
class Parsed:
    topic: str
    partition: int
    offset: int
    env: Envelope | None
    payload: EventPayload | None
    error: str | None = None
    record: ConsumerRecord[bytes, bytes] | None = None


def parse(record: ConsumerRecord[bytes, bytes]) -> Parsed:
    try:
        env, payload = CATALOG.parse(record.value or b"")
    except InvalidEvent as exc:
        return Parsed(record.topic, record.partition, record.offset, None, None, exc.reason, record)
    return Parsed(record.topic, record.partition, record.offset, env, payload)


class Folder:
    """Folds batches of parsed messages into one generation of the views, each batch in one
    transaction together with the partitions' next offsets: a batch is applied whole or not
    at all, and events already seen (a relay's resend) change nothing."""

    def __init__(
        self,
        client: AsyncMongoClient[Doc],
        store: ViewStore,
        *,
        dlq: AIOKafkaProducer | None,
        mode: str,
        check_active: bool = True,
    ) -> None:
        self.client = client
        self.store = store
        self.dlq = dlq
        self.mode = mode
        self.check_active = check_active

    async def fold(self, batch: list[Parsed], *, extra: Callable[[AsyncClientSession], Any] | None = None) -> FoldPlan:
        started = time.perf_counter()
        for bad in (p for p in batch if p.env is None):
            await self._dead_letter(bad)
        offsets: dict[str, int] = {}
        for p in batch:
            offsets[tp_key(p.topic, p.partition)] = max(offsets.get(tp_key(p.topic, p.partition), 0), p.offset + 1)
        events: dict[str, Parsed] = {}
        for p in batch:
            if p.env is not None and p.env.id not in events:
                events[p.env.id] = p

        async def work(session: AsyncClientSession) -> FoldPlan:
            if self.check_active:
                await self.store.check_generation(session)
            fresh = await self.store.unseen(list(events), session) if events else set()
            plan = FoldPlan()
            for event_id, p in events.items():
                if event_id in fresh:
                    assert p.env is not None and p.payload is not None
                    plan.add(p.env, p.payload)
            views, daily = plan.writes()
            await self.store.write_fold(
                views=views,
                daily=daily,
                households=plan.households,
                seen=[i for i in events if i in fresh],
                offsets=offsets,
                feed=plan.feed,
                session=session,
            )
            if extra is not None:
                await extra(session)
            return plan

        plan = await in_transaction(self.client, work)
        FOLDED.labels(self.mode).inc(plan.folded)
        DUPLICATES.inc(len(events) - plan.folded)
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
    ) -> None:
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

    async def start(self) -> None:
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
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        if self.consumer is not None:
            await self.consumer.stop()

    async def seek_stored(self, partitions: list[TopicPartition] | set[TopicPartition]) -> None:
        assert self.consumer is not None
        stored = await self.store.stored_offsets()
        for tp in partitions:
            offset = stored.get(tp_key(tp.topic, tp.partition))
            if offset is None:
                await self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, offset)

    async def run(self) -> None:
        assert self.consumer is not None
        folder = Folder(self.client, self.store, dlq=self.dlq, mode="live")
        while True:
            records = await self.consumer.getmany(timeout_ms=100, max_records=self.batch_max)
            batch = [parse(r) for recs in records.values() for r in recs]
            if not batch:
                self.caught_up.set()
                continue
            while True:
                try:
                    await folder.fold(batch)
                    break
                except GenerationChanged:
                    self.store = ViewStore(self.db, await active_generation(self.db))
                    folder = Folder(self.client, self.store, dlq=self.dlq, mode="live")
                    await self.seek_stored(self.consumer.assignment())
                    log.info("switched to a rebuilt generation", generation=self.store.generation)
                    batch = []
                    break
                except PyMongoError as exc:  # the database is away: keep the batch, try again
                    log.warning("fold failed, retrying", error=str(exc))
                    await asyncio.sleep(0.5)
            for tp, recs in records.items():
                high = self.consumer.highwater(tp)
                if high is not None and recs:
                    LAG.labels(tp.topic, str(tp.partition)).set(max(0, high - recs[-1].offset - 1))
            if batch:
                with contextlib.suppress(Exception):  # informational only: positions live in MongoDB
                    await self.consumer.commit({tp: recs[-1].offset + 1 for tp, recs in records.items() if recs})


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
) -> int:
    """Replay every topic from the beginning into a fresh generation and, once it has caught up
    with the end offsets taken at the start, make it the active one. Returns its number."""
    generation = await next_generation(db)
    store = ViewStore(db, generation)
    await store.drop()
    await store.ensure_indexes()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        max_partition_fetch_bytes=8 * 1024 * 1024,
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
        folder = Folder(client, store, dlq=None, mode="rebuild", check_active=False)
        remaining = {tp for tp in partitions if ends[tp] > begins[tp]}
        positions = {tp: begins[tp] for tp in partitions}
        while remaining:
            records = await consumer.getmany(*remaining, timeout_ms=500, max_records=batch_max)
            batch: list[Parsed] = []
            for tp, recs in records.items():
                recs = [r for r in recs if r.offset < ends[tp]]
                batch.extend(parse(r) for r in recs)
                if recs:
                    positions[tp] = recs[-1].offset + 1
                if positions[tp] >= ends[tp]:
                    remaining.discard(tp)
            if batch:
                await folder.fold(batch)
                done += len(batch)
                if progress:
                    progress(done, total)

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
                await set_active_generation(db, generation, session)

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
    counters: Counters, *, code: str, level: str, targets: dict[str, dict[str, float]]
) -> list[IndicatorValue]:
    out = []
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


def view_from(doc: Doc, *, targets: dict[str, dict[str, float]], children: list[Doc] | None = None) -> View:
    counters = dict(doc.get("counters", {}))
    return View(
        area=_area(doc),
        updated_at=doc["updated_at"].isoformat() if doc.get("updated_at") else None,
        indicators=evaluate(counters, code=doc["_id"], level=doc.get("level", ""), targets=targets),
        counters=counters,
        children=[_child(c, targets) for c in children or []],
    )


def _child(doc: Doc, targets: dict[str, dict[str, float]]) -> ChildView:
    counters = dict(doc.get("counters", {}))
    values = evaluate(counters, code=doc["_id"], level=doc.get("level", ""), targets=targets)
    return ChildView(
        area=_area(doc),
        values={v.key: v.value for v in values if v.headline},
        met={v.key: v.met for v in values if v.headline},
        targets={v.key: v.target for v in values if v.headline and v.target is not None},
        counters=counters,
    )


class ReadModelService:
    def __init__(self, *, db: AsyncDatabase[Doc], targets: dict[str, dict[str, float]]) -> None:
        self.db = db
        self.targets = targets

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
        return view_from(doc, targets=self.targets, children=await store.children(area))

    async def as_of(self, *, principal: Principal, area: str, on: date) -> View:
        store = await self.store()
        doc = await self._view_doc(store, principal, area)
        counters: dict[str, int] = defaultdict(int)
        for day in await store.daily(area, bucket_of(area), until=on):
            for k, v in day.get("areas", {}).get(area, {}).items():
                counters[k] += v
        view = view_from({**doc, "counters": dict(counters)}, targets=self.targets)
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
                points.append(TrendPoint(date=d, value=rounded(ind.compute(counters), ind.decimals)))
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
        now = datetime.now(UTC)
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
                        {"ns.coll": store.views.name, "documentKey._id": {"$in": [area]}},
                        {"ns.coll": store.views.name, "fullDocument.parent": area},
                        {"ns.coll": store.coll("feed").name, "operationType": "insert", "fullDocument.area_path": area},
                    ]
                }
            }
        ]
        async with await self.db.watch(pipeline, full_document="updateLookup", max_await_time_ms=200) as changes:
            # the first view is read once the change stream is open: no change falls between the two
            doc = await store.view(area) or doc
            yield "view", view_from(doc, targets=self.targets, children=await store.children(area)).model_dump_json()
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
                        view = view_from(current, targets=self.targets, children=await store.children(area))
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
