"""The consumer base: how fast the employment service learns of the registry's events.

Setup, on the bench's own stack: `--events` registry events (per household one
`governance.household_registered` and three `governance.resident_registered`, two of them able to
work: their ledger changes and records an event for the outbox) are published to
`relocation.governance`, keyed by household as the registry's relay does. An `EventConsumer` of a
fresh group (offsets committed at the topic's end first: other runs' history is not this run's
work), in this process, applies them with the real handlers of `employment_service.events` to a
fresh database, as the employment service's roster consumer does.

Figures printed:
- consumer: events per second, from the first handler call until every event is in
  `processed_events` (the group's join is not counted), and the roster checked complete;
- the base alone: the same events read again by another group whose handlers do nothing (the
  fetch, parsing, the `processed_events` look-up and insert, the transactions): what the handlers'
  own reads and writes cost is the difference;
- baseline: raw `insert_many` of the same number of documents (the events' envelopes) on the same
  server in the same run, documents per second;
- the ratios to the baseline (issue 11 aims at 0.5 or more for the consumer).

Run: .venv/bin/python bench/bench_consumer.py --events 5000
     (--consumer PATH times another copy of consumer.py instead, e.g. an older one)
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import OffsetAndMetadata
from common import stack_env
from prometheus_client import REGISTRY

from employment_service.events import CONSUMED_TOPICS, handlers
from employment_service.repository import EmploymentRepository, ensure_indexes
from employment_service.service import EmploymentService
from relocation_shared import consumer as base
from relocation_shared.clock import system_clock
from relocation_shared.consumer import PROCESSED_EVENTS, EventConsumer, Handler
from relocation_shared.events import CATALOG, Envelope
from relocation_shared.events.governance import HouseholdRegistered, ResidentRegistered
from relocation_shared.kafka import ensure_topics, make_producer, partitions_of
from relocation_shared.logging import configure_logging
from relocation_shared.mongo import make_client
from relocation_shared.outbox import OUTBOX, UnitOfWork, ensure_outbox_indexes
from relocation_shared.topics import DEAD_LETTER

COMMUNITY = "520330001001"
RESIDENTS_PER_HOUSEHOLD = 3


def registry_events(run: str, n: int) -> tuple[list[Envelope], int, int]:
    """`n` events in the registry's order: each household, then its residents. Returns the
    events, how many residents and how many of them can work."""
    envs: list[Envelope] = []
    residents = workers = 0
    h = 0
    while len(envs) < n:
        hid = f"h-{run}-{h:05d}"
        grid = f"{COMMUNITY}-G{h % 8:02d}"
        path = ["520000", "520300", "520330", "520330001000", COMMUNITY, grid]
        hh = HouseholdRegistered(
            household_id=hid,
            kind="registered_poor",
            community_code=COMMUNITY,
            grid_code=grid,
            building_code=f"{grid}-B01",
            registered_on=date(2025, 6, 30),
        )
        envs.append(
            CATALOG.envelope(hh, producer="governance", area_path=path, aggregate_id=hid, occurred_at=system_clock())
        )
        for r in range(RESIDENTS_PER_HOUSEHOLD):
            if len(envs) >= n:
                break
            works = r < 2
            p = ResidentRegistered(
                resident_id=f"r-{run}-{h:05d}-{r}",
                household_id=hid,
                household_kind="registered_poor",
                name_masked="王*",
                national_id_masked="520330********123X",
                sex="female" if r % 2 else "male",
                birth_year=1980 + r,
                labour_capacity=works,
            )
            envs.append(
                CATALOG.envelope(p, producer="governance", area_path=path, aggregate_id=hid, occurred_at=system_clock())
            )
            residents += 1
            workers += works
        h += 1
    return envs, residents, workers


def consumer_class(path: str | None) -> type[EventConsumer]:
    if path is None:
        return EventConsumer
    for metric in (base.PROCESSED, base.DUPLICATES, base.DEAD_LETTERED, base.LAG):
        REGISTRY.unregister(metric)  # the other copy registers its own under the same names
    spec = importlib.util.spec_from_file_location("bench_other_consumer", Path(path).resolve())
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    cls: type[EventConsumer] = module.EventConsumer
    return cls


async def start_at_end(bootstrap: str, group: str) -> None:
    """Commit the group's offsets at the consumed topics' ends before its consumer starts."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = await partitions_of(bootstrap, list(CONSUMED_TOPICS))
        consumer.assign(parts)
        ends = await consumer.end_offsets(parts)
        await consumer.commit({tp: OffsetAndMetadata(off, "") for tp, off in ends.items()})
    finally:
        await consumer.stop()


def timed(table: dict[str, Handler], first: list[float]) -> dict[str, Handler]:
    """The handlers, noting when the first of them is called."""

    def wrap(handler: Handler) -> Handler:
        async def call(tx: Any, env: Envelope, payload: Any) -> None:
            if not first:
                first.append(time.perf_counter())
            await handler(tx, env, payload)

        return call

    return {t: wrap(h) for t, h in table.items()}


async def until_count(coll: Any, target: int, timeout: float) -> float:
    deadline = time.perf_counter() + timeout
    while True:
        n = await coll.count_documents({})
        if n >= target:
            return time.perf_counter()
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{n} of {target} events applied after {timeout:.0f}s")
        await asyncio.sleep(0.05)


@dataclass(frozen=True)
class Stack:
    bootstrap: str
    mongo: Any
    producer: Any


async def noop(tx: Any, env: Envelope, payload: Any) -> None:
    """A handler that does nothing: what is left is the consumer base's own work."""


async def consume(
    run: Stack, cls: type[EventConsumer], group: str, db: Any, table: dict[str, Handler], n: int, timeout: float
) -> float:
    """Seconds from the first handler call until `n` events are in the database's `processed_events`."""
    first: list[float] = []
    consumer = cls(
        group_id=group,
        topics=CONSUMED_TOPICS,
        bootstrap=run.bootstrap,
        uow=UnitOfWork(run.mongo, db, producer="employment"),
        handlers=timed(table, first),
        dlq_producer=run.producer,
    )
    await consumer.start()
    try:
        done = await until_count(db[PROCESSED_EVENTS], n, timeout)
    finally:
        await consumer.stop()
    return done - first[0]


async def roster(db: Any) -> tuple[int, int, int, int]:
    """Households, residents, labour force and outbox entries in the employment database."""
    cursor = await db.roster_households.aggregate([{"$group": {"_id": None, "n": {"$sum": "$labour_count"}}}])
    labour = await cursor.to_list(None)
    return (
        await db.roster_households.count_documents({}),
        await db.roster_residents.count_documents({}),
        labour[0]["n"] if labour else 0,
        await db[OUTBOX].count_documents({}),
    )


async def main(n_events: int, other: str | None, timeout: float) -> None:
    tag = uuid.uuid4().hex[:6]
    cls = consumer_class(other)
    envs, residents, workers = registry_events(tag, n_events)
    n = len(envs)
    with stack_env() as env:
        bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
        await ensure_topics(bootstrap, [*CATALOG.topics(), DEAD_LETTER], partitions=6, replication=1)
        groups = {kind: f"bench-consumer-{tag}-{kind}" for kind in ("real", "noop", "raw")}
        for group in groups.values():
            await start_at_end(bootstrap, group)
        mongo = make_client(env["MONGODB_URI"], app_name="bench-consumer")
        dbs = {kind: mongo[f"bench_consumer_{tag}_{kind}"] for kind in groups}
        producer = make_producer(bootstrap, client_id="bench-consumer")
        await producer.start()
        run = Stack(bootstrap=bootstrap, mongo=mongo, producer=producer)
        try:
            for db in dbs.values():
                await ensure_outbox_indexes(db)
                await ensure_indexes(db)
            futures = [await producer.send(CATALOG.topic_of(e.type), value=e.to_bytes(), key=e.key) for e in envs]
            await asyncio.gather(*futures)

            db = dbs["real"]
            service = EmploymentService(
                uow=UnitOfWork(mongo, db, producer="employment"),
                repo=EmploymentRepository(db),
                clock=system_clock,
                batch_max=500,
            )
            t_real = await consume(run, cls, groups["real"], db, handlers(service), n, timeout)
            counts = await roster(db)
            table = {t: noop for t in handlers(service)}
            t_noop = await consume(run, cls, groups["noop"], dbs["noop"], table, n, timeout)

            docs = [{"_id": e.id, **e.model_dump(mode="json", exclude={"id"})} for e in envs]
            t0 = time.perf_counter()
            await dbs["raw"].baseline.insert_many(docs)
            t_raw = time.perf_counter() - t0
        finally:
            await producer.stop()
            for db in dbs.values():
                await mongo.drop_database(db.name)
            await mongo.close()

    households, roster_residents, labour, outbox = counts
    eps, base, raw = n / t_real, n / t_noop, n / t_raw
    print(f"consumer ({cls.__module__}.{cls.__name__}): {n:,} registry events → employment roster")
    print(f"  {n - residents:,} households, {residents:,} residents ({workers:,} able to work)")
    print(f"  applied in {t_real:.2f}s: {eps:,.0f} events/s")
    print(
        f"  roster: {households:,} households, {roster_residents:,} residents, labour {labour:,}, {outbox:,} outbox entries"
    )
    if (households, roster_residents, labour) != (n - residents, residents, workers):
        print("  ROSTER INCOMPLETE: the figures above are wrong")
    print(f"  the base alone (handlers doing nothing): {t_noop:.2f}s, {base:,.0f} events/s")
    print(f"baseline: raw insert_many of {n:,} documents in {t_raw:.2f}s: {raw:,.0f} documents/s")
    print(f"ratio consumer / raw insert_many: {eps / raw:.2f} (issue 11 aims at 0.5 or more)")
    print(f"ratio base alone / raw insert_many: {base / raw:.2f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=5_000)
    ap.add_argument("--consumer", default=None, help="a consumer.py to time instead of relocation_shared.consumer")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for every event applied")
    a = ap.parse_args()
    configure_logging("bench-consumer", "WARNING")
    asyncio.run(main(a.events, a.consumer, a.timeout))
