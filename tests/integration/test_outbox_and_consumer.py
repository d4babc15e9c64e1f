"""The outbox, the relay and the consumer base on the real broker and MongoDB-protocol server."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from relocation_shared.clock import system_clock
from relocation_shared.consumer import EventConsumer
from relocation_shared.events import CATALOG, Envelope
from relocation_shared.events.governance import HouseholdRegistered
from relocation_shared.kafka import make_producer
from relocation_shared.outbox import OUTBOX, OutboxRelay, Tx, UnitOfWork, ensure_outbox_indexes
from relocation_shared.topics import DEAD_LETTER, GOVERNANCE
from tests.integration.kafka_helpers import TopicTap, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("topics")]

PATH = ("520000", "520300", "520330", "520330001000", "520330001001")


def household_event(hid: str) -> HouseholdRegistered:
    return HouseholdRegistered(
        household_id=hid,
        kind="registered_poor",
        community_code="520330001001",
        grid_code="520330001001-G01",
        building_code="520330001001-G01-B01",
        registered_on=date(2025, 6, 30),
    )


@pytest.fixture
async def db(mongo_client: Any) -> Any:
    name = f"it_{uuid.uuid4().hex[:12]}"
    database = mongo_client[name]
    await ensure_outbox_indexes(database)
    yield database
    await mongo_client.drop_database(name)


@pytest.fixture
async def producer(bootstrap: str) -> Any:
    p = make_producer(bootstrap, client_id="it-relay")
    await p.start()
    yield p
    await p.stop()


def ours(records: list[Any], correlation: str) -> list[Envelope]:
    out = []
    for r in records:
        try:
            env, _ = CATALOG.parse(r.value)
        except Exception:
            continue
        if env.correlation_id == correlation:
            out.append(env)
    return out


async def commit_households(uow: UnitOfWork, n: int, correlation: str) -> list[str]:
    async def work(tx: Tx) -> list[str]:
        ids = []
        for _ in range(n):
            hid = uuid.uuid4().hex
            await uow.db.state.insert_one({"_id": hid}, session=tx.session)
            tx.record(household_event(hid), area_path=PATH, aggregate_id=hid)
            ids.append(hid)
        return ids

    return await uow.run(work, correlation_id=correlation)


async def test_relay_publishes_exactly_the_committed_events(mongo_client, db, producer, bootstrap):
    uow = UnitOfWork(mongo_client, db, producer="it")
    correlation = uuid.uuid4().hex
    tap = await TopicTap(bootstrap, GOVERNANCE).start()
    try:
        committed = await commit_households(uow, 3, correlation)

        async def rolled_back(tx: Tx) -> None:
            hid = uuid.uuid4().hex
            await db.state.insert_one({"_id": hid}, session=tx.session)
            tx.record(household_event(hid), area_path=PATH, aggregate_id=hid)
            raise RuntimeError("the use case fails after recording its event")

        with pytest.raises(RuntimeError):
            await uow.run(rolled_back, correlation_id=correlation)

        assert await db.state.count_documents({}) == 3
        assert await db[OUTBOX].count_documents({}) == 3

        relay = OutboxRelay(db=db, producer=producer, service="it")
        assert await relay.relay_once() == 3
        assert await relay.relay_once() == 0
        assert await db[OUTBOX].count_documents({"sent_at": None}) == 0

        records = await tap.read(until=lambda rs: len(ours(rs, correlation)) >= 3, settle=1.0)
        envs = ours(records, correlation)
        assert sorted(e.aggregate_id for e in envs) == sorted(committed)
        for r in records:
            env, _ = CATALOG.parse(r.value)
            if env.correlation_id == correlation:
                assert r.key == env.aggregate_id.encode()
                assert dict(r.headers)["event_type"] == b"governance.household_registered"
    finally:
        await tap.stop()


async def test_relay_killed_between_publish_and_mark_resends_and_consumers_count_once(
    mongo_client, db, producer, bootstrap
):
    uow = UnitOfWork(mongo_client, db, producer="it")
    correlation = uuid.uuid4().hex
    committed = await commit_households(uow, 5, correlation)
    tap = await TopicTap(bootstrap, GOVERNANCE).start()

    # The first relay publishes, then dies before it can mark the entries sent.
    first = OutboxRelay(db=db, producer=producer, service="it")
    pending = await first.fetch_pending()
    assert len(pending) == 5
    await first.publish(pending)
    assert await db[OUTBOX].count_documents({"sent_at": None}) == 5

    # Its successor finds the same entries still pending and sends them again.
    second_producer = make_producer(bootstrap, client_id="it-relay-2")
    await second_producer.start()
    try:
        second = OutboxRelay(db=db, producer=second_producer, service="it")
        assert await second.relay_once() == 5
    finally:
        await second_producer.stop()
    assert await db[OUTBOX].count_documents({"sent_at": None}) == 0

    records = await tap.read(until=lambda rs: len(ours(rs, correlation)) >= 10, settle=0.5)
    await tap.stop()
    assert len(ours(records, correlation)) == 10  # at least once: every event twice on the bus

    # An idempotent consumer applies each event exactly once.
    async def count(tx: Tx, env: Envelope, payload: Any) -> None:
        if env.correlation_id == correlation:
            await db.counted.update_one({"_id": env.aggregate_id}, {"$inc": {"n": 1}}, upsert=True, session=tx.session)

    def counting_consumer() -> EventConsumer:
        """A consumer of a group of its own (it reads the topic from the start)."""
        return EventConsumer(
            group_id=f"it-{uuid.uuid4().hex[:8]}",
            topics=[GOVERNANCE],
            bootstrap=bootstrap,
            uow=uow,
            handlers={"governance.household_registered": count},
            dlq_producer=producer,
        )

    consumer = counting_consumer()
    await consumer.start()
    try:

        async def all_counted() -> bool:
            return await db.counted.count_documents({}) == 5 and consumer.caught_up.is_set()

        await wait_for(all_counted, timeout=30)
    finally:
        await consumer.stop()
    docs = await db.counted.find().to_list(None)
    assert sorted(d["_id"] for d in docs) == sorted(committed)
    assert all(d["n"] == 1 for d in docs)

    # A consumer of another group over the same database re-reads everything: still once.
    again = counting_consumer()
    await again.start()
    try:
        await wait_for(lambda: again.caught_up.is_set(), timeout=30)
    finally:
        await again.stop()
    assert all(d["n"] == 1 for d in await db.counted.find().to_list(None))


async def test_poison_message_goes_to_dead_letter_and_the_next_is_processed(mongo_client, db, producer, bootstrap):
    uow = UnitOfWork(mongo_client, db, producer="it")
    marker = uuid.uuid4().hex
    correlation = uuid.uuid4().hex
    dlq_tap = await TopicTap(bootstrap, DEAD_LETTER).start()

    raw = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await raw.start()
    try:
        key = marker.encode()  # same key: the poison and the good event share a partition
        await raw.send_and_wait(GOVERNANCE, value=b"{not json " + key, key=key)
        bad_payload = CATALOG.envelope(
            household_event("h"),
            producer="it",
            area_path=PATH,
            aggregate_id=marker,
            correlation_id=correlation,
            occurred_at=system_clock(),
        ).model_dump(mode="json")
        bad_payload["payload"]["kind"] = "no-such-kind"
        await raw.send_and_wait(GOVERNANCE, value=json.dumps(bad_payload).encode(), key=key)
        good = CATALOG.envelope(
            household_event(marker),
            producer="it",
            area_path=PATH,
            aggregate_id=marker,
            correlation_id=correlation,
            occurred_at=system_clock(),
        )
        await raw.send_and_wait(GOVERNANCE, value=good.to_bytes(), key=key)
    finally:
        await raw.stop()

    seen: list[str] = []

    async def handle(tx: Tx, env: Envelope, payload: Any) -> None:
        if env.correlation_id == correlation:
            seen.append(env.id)

    group = f"it-{uuid.uuid4().hex[:8]}"
    consumer = EventConsumer(
        group_id=group,
        topics=[GOVERNANCE],
        bootstrap=bootstrap,
        uow=uow,
        handlers={"governance.household_registered": handle},
        dlq_producer=producer,
    )
    await consumer.start()
    try:
        await wait_for(lambda: bool(seen), timeout=30)
    finally:
        await consumer.stop()
    assert seen == [good.id]

    def dead(rs: list[Any]) -> list[Any]:
        # other consumer groups (services running beside this test) dead-letter them too
        return [r for r in rs if r.key == marker.encode() and dict(r.headers)["dlq.group"] == group.encode()]

    records = await dlq_tap.read(until=lambda rs: len(dead(rs)) >= 2, timeout=10)
    await dlq_tap.stop()
    letters = dead(records)
    assert len(letters) == 2
    reasons = [dict(r.headers)["dlq.reason"].decode() for r in letters]
    assert "malformed envelope" in reasons[0]
    assert "kind" in reasons[1]
    assert dict(letters[0].headers)["dlq.topic"] == GOVERNANCE.encode()


async def test_relay_loop_publishes_soon_after_commit(mongo_client, db, producer, bootstrap):
    uow = UnitOfWork(mongo_client, db, producer="it")
    relay = OutboxRelay(db=db, producer=producer, service="it", wake=uow.committed, poll_seconds=5)
    relay.start()
    tap = await TopicTap(bootstrap, GOVERNANCE).start()
    try:
        correlation = uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        started = loop.time()
        await commit_households(uow, 1, correlation)
        await tap.read(until=lambda rs: len(ours(rs, correlation)) == 1, timeout=5)
        elapsed = loop.time() - started
        # woken by the commit, not by the 5-second poll
        assert elapsed < 1.0, elapsed
    finally:
        await tap.stop()
        await relay.stop()


async def test_only_one_relay_holds_the_lease(mongo_client, db, producer):
    a = OutboxRelay(db=db, producer=producer, service="it", lease_seconds=30)
    b = OutboxRelay(db=db, producer=producer, service="it", lease_seconds=30)
    assert await a.acquire_lease()
    assert not await b.acquire_lease()
    assert await a.acquire_lease()  # renewing its own lease
    await a.release_lease()
    assert await b.acquire_lease()
