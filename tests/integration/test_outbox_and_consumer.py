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
from relocation_shared.consumer import PROCESSED_EVENTS, EventConsumer
from relocation_shared.errors import NotFound
from relocation_shared.events import CATALOG, Envelope
from relocation_shared.events.governance import HouseholdRegistered
from relocation_shared.kafka import ensure_topics, make_producer
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


async def own_topic(bootstrap: str) -> str:
    """A topic of one partition for one test: its offsets start at 0 and hold only its events."""
    topic = f"it-consumer-{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [topic], partitions=1, replication=1)
    return topic


async def publish(bootstrap: str, topic: str, envs: list[Envelope]) -> None:
    raw = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await raw.start()
    try:
        futures = [await raw.send(topic, value=e.to_bytes(), key=e.key) for e in envs]
        await asyncio.gather(*futures)
    finally:
        await raw.stop()


def households(n: int, correlation: str) -> list[Envelope]:
    out = []
    for i in range(n):
        hid = uuid.uuid4().hex
        out.append(
            CATALOG.envelope(
                household_event(hid),
                producer="it",
                area_path=PATH,
                aggregate_id=hid,
                correlation_id=f"{correlation}-{i}",
                occurred_at=system_clock(),
            )
        )
    return out


class NeverCommits(EventConsumer):
    """A consumer that dies before every offset commit: its transactions commit, Kafka never
    learns of it, so the group's next consumer is given the same records again."""

    async def commit_pending(self) -> None:
        self._pending.clear()


class CountingUnitOfWork(UnitOfWork):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.runs = 0

    async def run(self, fn: Any, *, correlation_id: str | None = None) -> Any:
        self.runs += 1
        return await super().run(fn, correlation_id=correlation_id)


async def test_consumer_killed_mid_batch_and_its_successor_apply_every_event_once(
    mongo_client, db, producer, bootstrap
):
    uow = UnitOfWork(mongo_client, db, producer="it")
    topic = await own_topic(bootstrap)
    envs = households(30, uuid.uuid4().hex)
    await publish(bootstrap, topic, envs)
    victim, flaky = envs[15].id, envs[22].id
    stuck = asyncio.Event()
    failed_once: list[str] = []

    async def count(tx: Tx, env: Envelope, payload: Any) -> None:
        await db.counted.update_one({"_id": env.id}, {"$inc": {"n": 1}}, upsert=True, session=tx.session)
        if env.id == flaky and not failed_once:
            failed_once.append(env.id)
            raise RuntimeError("a passing fault: the batch is tried again, never skipped")

    async def count_then_hang(tx: Tx, env: Envelope, payload: Any) -> None:
        await count(tx, env, payload)
        if env.id == victim:
            stuck.set()
            await asyncio.Event().wait()  # killed here, with its batch's transaction open

    group = f"it-{uuid.uuid4().hex[:8]}"

    def consumer(cls: type[EventConsumer], handler: Any) -> EventConsumer:
        return cls(
            group_id=group,
            topics=[topic],
            bootstrap=bootstrap,
            uow=uow,
            handlers={"governance.household_registered": handler},
            dlq_producer=producer,
            max_records=10,
        )

    first = consumer(NeverCommits, count_then_hang)
    await first.start()
    try:
        await asyncio.wait_for(stuck.wait(), timeout=30)
        before = await db.counted.count_documents({})
    finally:
        await first.stop()  # cancelled mid-batch
    # the batches before the victim's committed, the victim's did not
    assert 0 < before <= 15
    assert await db.counted.count_documents({}) == before
    assert await db.counted.count_documents({"_id": victim}) == 0

    # The successor in the same group is given everything again (no offset was committed).
    second = consumer(EventConsumer, count)
    await second.start()
    try:

        async def all_counted() -> bool:
            return await db.counted.count_documents({}) == 30 and second.caught_up.is_set()

        await wait_for(all_counted, timeout=30)
    finally:
        await second.stop()
    docs = await db.counted.find().to_list(None)
    assert sorted(d["_id"] for d in docs) == sorted(e.id for e in envs)
    assert [d["n"] for d in docs] == [1] * 30
    assert failed_once == [flaky]
    assert await db[PROCESSED_EVENTS].count_documents({}) == 30


async def test_a_poison_event_in_a_batch_is_dead_lettered_alone_and_its_neighbours_applied(
    mongo_client, db, producer, bootstrap
):
    uow = CountingUnitOfWork(mongo_client, db, producer="it")
    topic = await own_topic(bootstrap)
    correlation = uuid.uuid4().hex
    envs = households(21, correlation)
    poison = envs[10]
    await publish(bootstrap, topic, envs)
    dlq_tap = await TopicTap(bootstrap, DEAD_LETTER).start()

    async def handle(tx: Tx, env: Envelope, payload: Any) -> None:
        await db.applied.update_one({"_id": correlation}, {"$push": {"ids": env.id}}, upsert=True, session=tx.session)
        tx.record(household_event(env.aggregate_id), area_path=PATH, aggregate_id=env.aggregate_id)
        if env.id == poison.id:
            raise NotFound("该户不在就业台账中", field="household_id")

    group = f"it-{uuid.uuid4().hex[:8]}"
    consumer = EventConsumer(
        group_id=group,
        topics=[topic],
        bootstrap=bootstrap,
        uow=uow,
        handlers={"governance.household_registered": handle},
        dlq_producer=producer,
    )
    await consumer.start()
    try:

        async def done() -> bool:
            return await db[PROCESSED_EVENTS].count_documents({}) == 20 and consumer.caught_up.is_set()

        await wait_for(done, timeout=30)
    finally:
        await consumer.stop()

    good = [e for e in envs if e.id != poison.id]
    applied = await db.applied.find_one({"_id": correlation})
    assert applied is not None and applied["ids"] == [e.id for e in good]  # in order, once each, not the poison
    assert sorted(d["_id"] for d in await db[PROCESSED_EVENTS].find().to_list(None)) == sorted(e.id for e in good)
    # what the handlers recorded went out with them, each under its source event's correlation
    outbox = [json.loads(d["value"]) for d in await db[OUTBOX].find().to_list(None)]
    assert sorted(o["correlation_id"] for o in outbox) == sorted(e.correlation_id for e in good)
    assert uow.runs <= 3  # a batch (and its retry without the poison), not one transaction per event

    def dead(rs: list[Any]) -> list[Any]:
        return [r for r in rs if dict(r.headers)["dlq.group"] == group.encode()]

    records = await dlq_tap.read(until=lambda rs: len(dead(rs)) >= 1, timeout=10, settle=0.5)
    await dlq_tap.stop()
    letters = dead(records)
    assert len(letters) == 1
    headers = dict(letters[0].headers)
    assert headers["dlq.topic"] == topic.encode()
    assert headers["dlq.offset"] == b"10"
    assert headers["dlq.reason"].decode().startswith("NotFound")
    assert json.loads(letters[0].value)["id"] == poison.id
