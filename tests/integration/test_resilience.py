"""What an operator's kill leaves behind, on the real broker and MongoDB-protocol server:
readiness that checks the dependencies for real, a transaction orphaned by `kill -9` that stops
blocking within seconds, and an outbox lease taken over soon after its holder died."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from relocation_shared.events import CATALOG, Envelope
from relocation_shared.kafka import make_producer
from relocation_shared.mongo import in_transaction
from relocation_shared.outbox import OUTBOX, OutboxRelay, ensure_outbox_indexes, outbox_document
from relocation_shared.runtime import READINESS_TIMEOUT_SECONDS, Runtime
from relocation_shared.settings import ServiceSettings
from relocation_shared.topics import GOVERNANCE
from tests.clock import NOW
from tests.integration.kafka_helpers import TopicTap, wait_for
from tests.integration.test_outbox_and_consumer import PATH, household_event

pytestmark = [pytest.mark.integration]

HERE = Path(__file__).parent


def free_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def runtime(*, mongo_uri: str, bootstrap: str) -> Runtime:
    return Runtime(ServiceSettings(service_name="resilience", mongodb_uri=mongo_uri, kafka_bootstrap_servers=bootstrap))


async def outcome(rt: Runtime, name: str) -> tuple[bool, float]:
    start = time.perf_counter()
    try:
        await rt.readiness()[name]()
        ok = True
    except Exception:
        ok = False
    return ok, time.perf_counter() - start


async def test_readiness_is_green_when_the_broker_and_the_database_answer(mongo_uri: str, bootstrap: str) -> None:
    rt = runtime(mongo_uri=mongo_uri, bootstrap=bootstrap)
    try:
        assert (await outcome(rt, "kafka"))[0]
        assert (await outcome(rt, "mongodb"))[0]
    finally:
        await rt.stop()


async def test_readiness_fails_within_its_timeout_when_nothing_listens() -> None:
    nowhere = f"mongodb://127.0.0.1:{free_port()}/?directConnection=true"
    rt = runtime(mongo_uri=nowhere, bootstrap=f"127.0.0.1:{free_port()}")
    try:
        for name in ("kafka", "mongodb"):
            ok, took = await outcome(rt, name)
            assert not ok, name
            assert took < READINESS_TIMEOUT_SECONDS + 1, (name, took)
            # the outcome is cached for about a second: a second probe at once answers at once
            ok, again = await outcome(rt, name)
            assert not ok and again < 0.1, (name, again)
    finally:
        await rt.stop()


async def test_a_transaction_of_a_killed_process_stops_blocking_within_seconds(
    mongo_client: Any, mongo_uri: str
) -> None:
    database = f"it_{uuid.uuid4().hex[:12]}"
    doc_id = uuid.uuid4().hex
    await mongo_client[database].docs.insert_one({"_id": "created-first"})  # the collection exists
    holder = await asyncio.create_subprocess_exec(
        sys.executable, str(HERE / "hold_transaction.py"), mongo_uri, database, doc_id, stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None
        line = await asyncio.wait_for(holder.stdout.readline(), timeout=30)
        assert line.strip() == b"written"
        os.kill(holder.pid, signal.SIGKILL)
        await asyncio.wait_for(holder.wait(), timeout=10)

        async def write(session: Any) -> None:
            coll = mongo_client[database].docs
            await coll.update_one({"_id": doc_id}, {"$set": {"by": "restarted"}}, upsert=True, session=session)

        start = time.perf_counter()
        await asyncio.wait_for(in_transaction(mongo_client, write), timeout=60)
        took = time.perf_counter() - start
        print(f"write after kill -9: {took:.2f} s")
        assert took < 10, took
        assert (await mongo_client[database].docs.find_one({"_id": doc_id}))["by"] == "restarted"
    finally:
        if holder.returncode is None:
            holder.kill()
        await mongo_client.drop_database(database)


async def test_a_new_relay_takes_over_the_lease_of_one_that_died_within_seconds(
    mongo_client: Any, bootstrap: str, topics: None
) -> None:
    database = f"it_{uuid.uuid4().hex[:12]}"
    db = mongo_client[database]
    await ensure_outbox_indexes(db)
    producer = make_producer(bootstrap, client_id="it-resilience")
    await producer.start()
    tap = await TopicTap(bootstrap, GOVERNANCE).start()
    try:
        dead = OutboxRelay(db=db, producer=producer, service="it", poll_seconds=0.1)
        dead.start()
        await wait_for(lambda: dead._lease_until is not None, timeout=10)
        assert dead._task is not None
        dead._task.cancel()  # killed: the lease is left in the database, not released
        with pytest.raises(asyncio.CancelledError):
            await dead._task
        assert await db.outbox_lease.find_one({"_id": "relay", "owner": dead.owner})

        successor = OutboxRelay(db=db, producer=producer, service="it", poll_seconds=0.1)
        hid = uuid.uuid4().hex
        env = household_event_envelope(hid)
        start = time.perf_counter()
        successor.start()
        await db[OUTBOX].insert_one(outbox_document(env, created_at=env.occurred_at))
        records = await tap.read(until=lambda rs: any(r.key == hid.encode() for r in rs), timeout=15)
        took = time.perf_counter() - start
        assert any(r.key == hid.encode() for r in records)
        print(f"takeover of a dead relay's lease: {took:.2f} s")
        assert took < 4.0, took
        await successor.stop()
    finally:
        await tap.stop()
        await producer.stop()
        await mongo_client.drop_database(database)


def household_event_envelope(hid: str) -> Envelope:
    return CATALOG.envelope(household_event(hid), producer="it", area_path=PATH, aggregate_id=hid, occurred_at=NOW)


async def test_the_lease_of_a_dead_process_on_this_host_is_taken_at_once(mongo_client: Any) -> None:
    database = f"it_{uuid.uuid4().hex[:12]}"
    db = mongo_client[database]
    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await gone.wait()  # a pid that no longer runs, as a killed service leaves it
    relay = OutboxRelay(db=db, producer=None, service="it")  # type: ignore[arg-type]  # no publishing here
    far = NOW.replace(year=NOW.year + 100)
    await db.outbox_lease.insert_one(
        {
            "_id": "relay",
            "owner": f"{relay.host}:{gone.pid}:dead",
            "host": relay.host,
            "pid": gone.pid,
            "expires_at": far,
        }
    )
    try:
        assert await relay.acquire_lease()
        assert (await db.outbox_lease.find_one({"_id": "relay"}))["owner"] == relay.owner
        # a live holder (this process) is never taken from, however close to expiry
        other = OutboxRelay(db=db, producer=None, service="it")  # type: ignore[arg-type]
        assert not await other.acquire_lease()
    finally:
        await mongo_client.drop_database(database)
