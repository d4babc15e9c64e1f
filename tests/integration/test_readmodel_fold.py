"""The read model's exactly-once effect, rebuild and as-of, on the real broker and server."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from readmodel_service.fold.consumer import ViewConsumer
from readmodel_service.fold.parse import Parsed
from readmodel_service.fold.repository import active_generation
from readmodel_service.fold.service import Folder
from readmodel_service.rebuild.service import rebuild
from readmodel_service.views.repository import ViewStore
from readmodel_service.views.service import ReadModelService
from relocation_shared.auth import Principal, Role
from relocation_shared.clock import system_clock
from relocation_shared.errors import NotFound
from relocation_shared.events import CATALOG, Envelope, EventPayload
from relocation_shared.events.employment import (
    EmploymentEnded,
    HouseholdLabourChanged,
    HouseholdZeroEmploymentCleared,
    HouseholdZeroEmploymentRaised,
    WorkerEmployed,
)
from relocation_shared.events.governance import AreaRegistered, HouseholdRegistered
from relocation_shared.kafka import ensure_topics
from tests.context import ctx
from tests.integration.kafka_helpers import wait_for

pytestmark = pytest.mark.integration

CITY = ("520000", "520300")
OFFICER = Principal(subject="t", roles=frozenset({Role.CITY_OFFICER}), areas=frozenset({"520300"}))


def path(county: str, community: int, building: int) -> tuple[str, ...]:
    town = f"{county}001000"
    comm = f"{county}001{community:03d}"
    return (*CITY, county, town, comm, f"{comm}-G01", f"{comm}-G01-B{building:02d}")


def env(payload: EventPayload, area: tuple[str, ...], aggregate: str, at: datetime) -> Envelope:
    return CATALOG.envelope(payload, producer="test", area_path=area, aggregate_id=aggregate, occurred_at=at)


def household_story(hid: str, area: tuple[str, ...], day: date, *, workers: int, lose_one: bool) -> list[Envelope]:
    """A household registers, gets labour, people find jobs (and maybe one loses it)."""
    at = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    out = [
        env(
            HouseholdRegistered(
                household_id=hid,
                kind="registered_poor",
                community_code=area[4],
                grid_code=area[5],
                building_code=area[6],
                registered_on=day,
            ),
            area,
            hid,
            at,
        ),
        env(
            HouseholdLabourChanged(household_id=hid, labour_count=workers, previous_labour_count=0, employed_count=0),
            area,
            hid,
            at,
        ),
        env(HouseholdZeroEmploymentRaised(household_id=hid, labour_count=workers, since=at, cause="x"), area, hid, at),
    ]
    for i in range(workers):
        out.append(
            env(
                WorkerEmployed(
                    spell_id=f"{hid}-s{i}",
                    resident_id=f"{hid}-r{i}",
                    household_id=hid,
                    employment_type="out_of_province" if i % 2 else "assistance_workshop",
                    organised_export=bool(i % 2),
                    employer="贵州骏华实业有限公司",
                    monthly_wage=3500 + 100 * i,
                    started_on=day,
                ),
                area,
                hid,
                at,
            )
        )
        if i == 0:
            out.append(
                env(
                    HouseholdZeroEmploymentCleared(
                        household_id=hid,
                        employed_count=1,
                        labour_count=workers,
                        zero_since=at,
                        cleared_at=at,
                        cause="x",
                    ),
                    area,
                    hid,
                    at,
                )
            )
    if lose_one:
        out.append(
            env(
                EmploymentEnded(
                    spell_id=f"{hid}-s0",
                    resident_id=f"{hid}-r0",
                    household_id=hid,
                    employment_type="assistance_workshop",
                    organised_export=False,
                    monthly_wage=3500,
                    started_on=day,
                    ended_on=day,
                    reason="车间停产",
                ),
                area,
                hid,
                at,
            )
        )
        if workers == 1:
            out.append(
                env(HouseholdZeroEmploymentRaised(household_id=hid, labour_count=1, since=at, cause="x"), area, hid, at)
            )
    return out


@pytest.fixture
async def topic(bootstrap: str) -> str:
    name = f"it.readmodel.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [name], partitions=3, replication=1)
    return name


@pytest.fixture
async def db(mongo_client: Any) -> Any:
    name = f"it_rm_{uuid.uuid4().hex[:10]}"
    yield mongo_client[name]
    await mongo_client.drop_database(name)


async def produce(bootstrap: str, topic: str, events: list[Envelope]) -> None:
    p = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await p.start()
    try:
        for e in events:
            await p.send(topic, value=e.to_bytes(), key=e.key)
        await p.flush()
    finally:
        await p.stop()


async def run_consumer(
    mongo_client: Any, db: Any, bootstrap: str, topic: str, group: str | None = None
) -> ViewConsumer:
    dlq = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await dlq.start()
    c = ViewConsumer(
        client=mongo_client,
        db=db,
        bootstrap=bootstrap,
        group_id=group or f"it-rm-{uuid.uuid4().hex[:8]}",
        topics=[topic],
        dlq=dlq,
        batch_max=7,  # small batches: a story spans several transactions
    )
    await c.start()
    return c


async def stop_consumer(c: ViewConsumer) -> None:
    await c.stop()
    await c.dlq.stop()  # the dead-letter producer run_consumer started


def nonzero(counters: dict[str, int]) -> dict[str, int]:
    """A counter that went up and down again reads 0; one never moved is absent: the same."""
    return {k: v for k, v in counters.items() if v}


async def views(db: Any, generation: int | None = None) -> dict[str, dict[str, int]]:
    """Every area's counters, grids and buildings (kept inside their community's document) too."""
    store = ViewStore(db, generation or await active_generation(db))
    out = {}
    for d in await store.views.find().to_list(None):
        out[d["_id"]] = nonzero(d.get("counters", {}))
        for code, sub in (d.get("sub") or {}).items():
            out[code] = nonzero(sub.get("counters", {}))
    return out


async def settle(db: Any, expected_count: int, consumer: ViewConsumer) -> None:
    async def done() -> bool:
        store = ViewStore(db, await active_generation(db))
        return await store.seen_count() >= expected_count

    await wait_for(done, timeout=30)


def stories(county: str, n: int, day: date) -> list[Envelope]:
    out: list[Envelope] = []
    for i in range(n):
        out += household_story(
            f"{county}-h{i}", path(county, 1 + i % 2, 1 + i % 3), day, workers=1 + i % 3, lose_one=i % 4 == 0
        )
    return out


def expected(events: list[Envelope]) -> dict[str, int]:
    """The county's counters computed by hand from the stories."""
    c: dict[str, int] = {}
    for e in events:
        p = CATALOG.payload_of(e)
        if isinstance(p, WorkerEmployed):
            c["employed"] = c.get("employed", 0) + 1
        elif isinstance(p, EmploymentEnded):
            c["employed"] = c.get("employed", 0) - 1
        elif isinstance(p, HouseholdLabourChanged):
            c["labour_force"] = c.get("labour_force", 0) + p.labour_count - p.previous_labour_count
    return c


async def test_duplicates_redelivery_and_a_lost_kafka_commit_change_nothing(mongo_client, db, bootstrap, topic):
    county = "520330"
    events = stories(county, 12, date(2025, 3, 1))
    await produce(bootstrap, topic, events)
    consumer = await run_consumer(mongo_client, db, bootstrap, topic)
    try:
        await settle(db, len(events), consumer)
        first = await views(db)
        # the relay resends everything (same event ids, new offsets)
        await produce(bootstrap, topic, events)
        await wait_for(lambda: consumer.caught_up.is_set(), timeout=10)
        consumer.caught_up.clear()
        await wait_for(lambda: consumer.caught_up.is_set(), timeout=10)
    finally:
        await stop_consumer(consumer)
    assert await views(db) == first

    # a consumer that lost every Kafka commit (a new group) resumes from the stored offsets
    again = await run_consumer(mongo_client, db, bootstrap, topic)
    try:
        await wait_for(lambda: again.caught_up.is_set(), timeout=15)
    finally:
        await stop_consumer(again)
    assert await views(db) == first

    want = expected(events)
    assert first[county]["employed"] == want["employed"]
    assert first[county]["labour_force"] == want["labour_force"]
    # rolled up identically at every level above the community
    for code in (*CITY, county, f"{county}001000"):
        assert first[code]["employed"] == want["employed"], code
    communities = [c for c in first if len(c) == 12 and c.endswith(("001", "002")) and c != f"{county}001000"]
    assert sum(first[c]["employed"] for c in communities) == want["employed"]
    buildings = [c for c in first if "-B" in c]
    assert len(buildings) == 6 and sum(first[b].get("employed", 0) for b in buildings) == want["employed"]
    lone_workers_laid_off = sum(1 for i in range(12) if i % 4 == 0 and 1 + i % 3 == 1)
    assert first[county].get("zero_employment_households", 0) == lone_workers_laid_off == 1


async def test_out_of_order_across_partitions_gives_the_same_views(mongo_client, db, bootstrap, topic, mongo_uri):
    events = stories("520382", 10, date(2025, 5, 1))
    await produce(bootstrap, topic, list(reversed(events[: len(events) // 2])) + events[len(events) // 2 :])
    consumer = await run_consumer(mongo_client, db, bootstrap, topic)
    try:
        await settle(db, len(events), consumer)
    finally:
        await stop_consumer(consumer)
    got = await views(db)
    assert got["520382"]["employed"] == expected(events)["employed"]

    # the same events in order, into another database: the same counters
    other_name = f"it_rm_{uuid.uuid4().hex[:10]}"
    other = mongo_client[other_name]
    topic2 = f"{topic}.inorder"
    await ensure_topics(bootstrap, [topic2], partitions=3, replication=1)
    await produce(bootstrap, topic2, events)
    c2 = await run_consumer(mongo_client, other, bootstrap, topic2)
    try:
        await settle(other, len(events), c2)
    finally:
        await stop_consumer(c2)
    try:
        assert await views(other) == got
    finally:
        await mongo_client.drop_database(other_name)


async def test_rebuild_equals_live_and_switches_over(mongo_client, db, bootstrap, topic):
    events = [
        env(
            AreaRegistered(code="520330", name="习水县", level="county", parent="520300"),
            (*CITY, "520330"),
            "520330",
            system_clock(),
        )
    ]
    events += stories("520330", 8, date(2025, 4, 1))
    await produce(bootstrap, topic, events)
    live = await run_consumer(mongo_client, db, bootstrap, topic)
    try:
        await settle(db, len(events), live)
        before = await views(db)
        county = await ViewStore(db, 1).view("520330")
        assert county is not None and county["name"] == "习水县"

        generation = await rebuild(client=mongo_client, db=db, bootstrap=bootstrap, topics=[topic], switch=False)
        assert generation == 2
        assert await views(db, 2) == before
        county = await ViewStore(db, 2).view("520330")
        assert county is not None and county["name"] == "习水县"

        generation = await rebuild(client=mongo_client, db=db, bootstrap=bootstrap, topics=[topic], switch=True)
        assert await active_generation(db) == generation == 3
        # the live consumer follows the switch and keeps folding into the new generation
        more = stories("520330", 2, date(2025, 4, 2))
        more = [e.model_copy(update={"aggregate_id": e.aggregate_id + "x"}) for e in more]
        more = [
            CATALOG.envelope(
                CATALOG.payload_of(e).model_copy(update={"household_id": e.aggregate_id}),
                producer="t",
                area_path=e.area_path,
                aggregate_id=e.aggregate_id,
                occurred_at=e.occurred_at,
            )
            for e in more
        ]
        await produce(bootstrap, topic, more)

        async def caught_up() -> bool:
            return await ViewStore(db, 3).seen_count() >= len(events) + len(more)

        await wait_for(caught_up, timeout=30)
    finally:
        await stop_consumer(live)
    after = await views(db)
    assert after["520330"]["employed"] == expected(events + more)["employed"]


async def test_as_of_matches_the_views_taken_at_that_time(mongo_client, db, bootstrap, topic):
    service = ReadModelService(db=db, targets={"employment_rate": {"default": 95.0}}, clock=system_clock)
    june = stories("520330", 6, date(2025, 6, 30))
    live = await run_consumer(mongo_client, db, bootstrap, topic)
    try:
        await produce(bootstrap, topic, june)
        await settle(db, len(june), live)
        at_june = await service.view(ctx=ctx(OFFICER), area="520330")
        july = [
            CATALOG.envelope(
                CATALOG.payload_of(e).model_copy(update={"household_id": e.aggregate_id + "j"}),
                producer="t",
                area_path=e.area_path,
                aggregate_id=e.aggregate_id + "j",
                occurred_at=datetime(2025, 7, 15, 9, tzinfo=UTC),
            )
            for e in stories("520330", 4, date(2025, 7, 15))
        ]
        await produce(bootstrap, topic, july)
        await settle(db, len(june) + len(july), live)
    finally:
        await stop_consumer(live)
    as_of_june = await service.as_of(ctx=ctx(OFFICER), area="520330", on=date(2025, 6, 30))
    assert as_of_june.counters == nonzero(at_june.counters)
    assert [i.value for i in as_of_june.indicators] == [i.value for i in at_june.indicators]
    now = await service.view(ctx=ctx(OFFICER), area="520330")
    assert now.counters != at_june.counters
    as_of_july = await service.as_of(ctx=ctx(OFFICER), area="520330", on=date(2025, 7, 31))
    assert nonzero(as_of_july.counters) == nonzero(now.counters)
    trend = await service.trend(ctx=ctx(OFFICER), area="520330", indicator="employed", since=None)
    assert [p.date for p in trend.points] == [date(2025, 6, 30), date(2025, 7, 15)]
    assert trend.points[-1].value == now.counters["employed"]


def parsed(events: list[Envelope], topic: str, partition: int, first_offset: int) -> list[Parsed]:
    return [Parsed(topic, partition, first_offset + i, e, CATALOG.payload_of(e)) for i, e in enumerate(events)]


async def test_two_instances_folding_one_partition_count_each_event_once(mongo_client, db):
    """A rebalance can leave two instances briefly folding the same partition, each with the seen
    ids it loaded at its start: the offsets stored with the views and the seen documents written
    since by the other instance keep every event counted once."""
    store = ViewStore(db, 1)
    await store.ensure_indexes()
    a = Folder(mongo_client, store, dlq=None, mode="live")
    b = Folder(mongo_client, store, dlq=None, mode="live")
    await a.load()
    await b.load()
    events = stories("520330", 3, date(2025, 3, 1))
    assert (await a.fold(parsed(events, "t", 0, 0))).folded == len(events)
    first = await views(db)

    # b still holds the partition and is handed the same records (a redelivery): nothing
    assert (await b.fold(parsed(events, "t", 0, 0))).folded == 0
    assert (await b.fold(parsed(events[:3], "t", 0, 0))).folded == 0
    assert (await store.stored_offsets())["t:0"] == len(events)  # a stale batch never moves it back
    # the relay resends three of them at new offsets; b never loaded a's seen documents until now
    resent = events[2:5]
    plan = await b.fold(parsed(resent, "t", 0, len(events)))
    assert plan.folded == 0 and plan.duplicates == len(resent)
    # and on another partition, to an instance started afterwards
    c = Folder(mongo_client, store, dlq=None, mode="live")
    await c.load()
    assert len(c.seen) == len(events)
    assert (await c.fold(parsed(events[:2], "t", 1, 0))).folded == 0
    assert await views(db) == first

    # new events after all that are folded as usual
    more = stories("520382", 2, date(2025, 3, 2))
    assert (await b.fold(parsed(more, "t", 0, len(events) + len(resent)))).folded == len(more)
    after = await views(db)
    assert after["520382"]["employed"] == expected(more)["employed"]
    assert after["520330"] == first["520330"]
    assert await store.seen_count() == len(events) + len(more)


async def test_grid_and_building_views_are_served_from_their_community(mongo_client, db):
    """Grids and buildings are kept inside their community's document: the API still answers
    their views and each level's children, down to the building."""
    store = ViewStore(db, 1)
    await store.ensure_indexes()
    folder = Folder(mongo_client, store, dlq=None, mode="live")
    events = stories("520330", 6, date(2025, 3, 1))  # communities 001 and 002, buildings 01–03
    await folder.fold(parsed(events, "t", 0, 0))
    service = ReadModelService(db=db, targets={}, clock=system_clock)
    comm = "520330001001"
    community = await service.view(ctx=ctx(OFFICER), area=comm)
    assert [c.area.code for c in community.children] == [f"{comm}-G01"]
    grid = await service.view(ctx=ctx(OFFICER), area=f"{comm}-G01")
    assert grid.area.level == "grid" and grid.area.path[-2:] == [comm, f"{comm}-G01"]
    assert [c.area.code for c in grid.children] == [f"{comm}-G01-B{b:02d}" for b in (1, 2, 3)]
    assert grid.counters == community.counters  # the community's only grid
    buildings = [await service.view(ctx=ctx(OFFICER), area=c.area.code) for c in grid.children]
    assert sum(b.counters.get("employed", 0) for b in buildings) == grid.counters["employed"]
    assert all(b.children == [] for b in buildings)
    town = await service.view(ctx=ctx(OFFICER), area="520330001000")
    assert [c.area.code for c in town.children] == [comm, "520330001002"]
    assert all("sub" not in c.counters for c in town.children)
    with pytest.raises(NotFound):
        await service.view(ctx=ctx(OFFICER), area=f"{comm}-G09")


async def test_two_instances_folding_different_partitions_at_once_lose_nothing(mongo_client, db):
    """Two replicas fold their own partitions at the same time; both write the province, city and
    county documents. A write conflict aborts one transaction and it is folded again from what
    the other committed: the totals are the sum of both. (On the test server about every other
    transaction here was retried.)"""
    store = ViewStore(db, 1)
    await store.ensure_indexes()
    a = Folder(mongo_client, store, dlq=None, mode="live")
    b = Folder(mongo_client, store, dlq=None, mode="live")

    def round_of(tag: str) -> list[Envelope]:
        return [
            CATALOG.envelope(
                CATALOG.payload_of(e).model_copy(update={"household_id": e.aggregate_id + tag}),
                producer="t",
                area_path=e.area_path,
                aggregate_id=e.aggregate_id + tag,
                occurred_at=e.occurred_at,
            )
            for e in stories("520330", 4, date(2025, 3, 1))
        ]

    everything: list[Envelope] = []
    offsets = [0, 0]
    for r in range(4):
        left, right = round_of(f"a{r}"), round_of(f"b{r}")
        await asyncio.gather(a.fold(parsed(left, "t", 0, offsets[0])), b.fold(parsed(right, "t", 1, offsets[1])))
        offsets = [offsets[0] + len(left), offsets[1] + len(right)]
        everything += left + right
    got = await views(db)
    want = expected(everything)
    assert got["520330"]["employed"] == want["employed"]
    assert got["520300"]["labour_force"] == want["labour_force"]
    assert await store.seen_count() == len(everything)
