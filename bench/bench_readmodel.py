"""Read-model figures.

- Ingest: events per second the read model folds into views (the same batch fold the live
  consumer uses), against a plain aiokafka consumer that only decodes the same events, in the
  same run, as a ratio (target ≥ 0.5).
- Rebuild: time to replay the topic into a fresh generation, and the peak RSS of the process
  doing it (a child process, so its peak is its own).
- Freshness: p50 and p99 from an API write to the view change on the SSE stream, at a steady
  200 writes per second (training records through the employment API: each one moves the
  county's 培训人次 by one).

Run: make bench   (or .venv/bin/python bench/bench_readmodel.py --events 1000000)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from common import ROOT, national_id, percentile, services, stack_env, token

from readmodel_service.config import Settings
from readmodel_service.fold.consumer import ViewConsumer
from relocation_shared.clock import business_today, system_clock
from relocation_shared.events import CATALOG, Envelope, EventPayload
from relocation_shared.events.employment import (
    EmploymentEnded,
    HouseholdLabourChanged,
    TrainingCompleted,
    WorkerEmployed,
)
from relocation_shared.events.governance import HouseholdRegistered
from relocation_shared.kafka import ensure_topics, partitions_of
from relocation_shared.mongo import make_client

COUNTIES = ["520302", "520303", "520304", "520322", "520323", "520324", "520330", "520381", "520382"]


def synthetic(n: int, seed: int = 5) -> list[bytes]:
    """n events telling household stories across the city's counties and communities, in time
    order as an event log holds them: a household's story every five minutes (1 million events
    span about two years)."""
    rng = random.Random(seed)
    out: list[bytes] = []
    base = datetime(2025, 1, 1, tzinfo=UTC)
    h = 0
    while len(out) < n:
        h += 1
        county = rng.choice(COUNTIES)
        comm = f"{county}001{rng.randint(1, 12):03d}"
        grid = f"{comm}-G0{rng.randint(1, 4)}"
        path = ("520000", "520300", county, f"{county}001000", comm, grid, f"{grid}-B0{rng.randint(1, 3)}")
        hid = f"h{h}"
        at = base + timedelta(minutes=5 * h)
        day = at.date()

        def env(p: EventPayload, path: tuple[str, ...] = path, hid: str = hid, at: datetime = at) -> bytes:
            e: Envelope = CATALOG.envelope(p, producer="bench", area_path=path, aggregate_id=hid, occurred_at=at)
            return e.to_bytes()

        out.append(
            env(
                HouseholdRegistered(
                    household_id=hid,
                    kind=rng.choice(["registered_poor", "co_relocated"]),
                    community_code=comm,
                    grid_code=grid,
                    building_code=path[-1],
                    registered_on=day,
                )
            )
        )
        workers = rng.randint(1, 3)
        out.append(
            env(
                HouseholdLabourChanged(
                    household_id=hid, labour_count=workers, previous_labour_count=0, employed_count=0
                )
            )
        )
        for i in range(workers):
            kind = rng.choice(["out_of_province", "in_province", "local", "assistance_workshop"])
            out.append(
                env(
                    WorkerEmployed(
                        spell_id=f"{hid}s{i}",
                        resident_id=f"{hid}r{i}",
                        household_id=hid,
                        employment_type=kind,
                        organised_export=rng.random() < 0.1,
                        employer="某企业",
                        monthly_wage=rng.randint(2000, 6000),
                        started_on=day,
                    )
                )
            )
            if rng.random() < 0.3:
                out.append(
                    env(
                        TrainingCompleted(
                            training_id=f"{hid}t{i}",
                            resident_id=f"{hid}r{i}",
                            household_id=hid,
                            course="电工",
                            hours=40,
                            completed_on=day,
                            first_training=True,
                        )
                    )
                )
            if rng.random() < 0.05:
                out.append(
                    env(
                        EmploymentEnded(
                            spell_id=f"{hid}s{i}",
                            resident_id=f"{hid}r{i}",
                            household_id=hid,
                            employment_type=kind,
                            organised_export=False,
                            monthly_wage=3000,
                            started_on=day,
                            ended_on=day,
                            reason="合同到期",
                        )
                    )
                )
    return out[:n]


async def produce(bootstrap: str, topic: str, values: list[bytes]) -> float:
    p = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks=1, linger_ms=20, max_batch_size=512 * 1024, compression_type=None
    )
    await p.start()
    t0 = time.perf_counter()
    try:
        for i, v in enumerate(values):
            await p.send(topic, value=v, key=str(i % 997).encode())
        await p.flush()
    finally:
        await p.stop()
    return time.perf_counter() - t0


async def raw_decode(bootstrap: str, topic: str, n: int) -> float:
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, max_partition_fetch_bytes=8 << 20)
    await c.start()
    try:
        parts = await partitions_of(bootstrap, [topic])
        c.assign(parts)
        await c.seek_to_beginning(*parts)
        t0 = time.perf_counter()
        seen = 0
        while seen < n:
            batch = await c.getmany(timeout_ms=500, max_records=5000)
            for recs in batch.values():
                for r in recs:
                    CATALOG.parse(r.value or b"")
                seen += len(recs)
        return time.perf_counter() - t0
    finally:
        await c.stop()


async def live_fold(env: dict[str, str], topic: str, n: int, batch: int) -> float:
    client = make_client(env["MONGODB_URI"], app_name="bench")
    db = client[f"bench_rm_{uuid.uuid4().hex[:6]}"]
    dlq = AIOKafkaProducer(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"])
    await dlq.start()
    consumer = ViewConsumer(
        client=client,
        db=db,
        bootstrap=env["KAFKA_BOOTSTRAP_SERVERS"],
        group_id=f"bench-{uuid.uuid4().hex[:6]}",
        topics=[topic],
        dlq=dlq,
        batch_max=batch,
    )
    t0 = time.perf_counter()
    await consumer.start()
    try:
        # done when the offsets stored with the views reach the end of the topic (cheap to ask,
        # unlike counting the folded ids, which would read them all every time)
        while sum((await consumer.store.stored_offsets()).values()) < n:
            await asyncio.sleep(0.2)
        assert await consumer.store.seen_count() == n
        return time.perf_counter() - t0
    finally:
        await consumer.stop()
        await dlq.stop()
        await client.drop_database(db.name)
        await client.close()


def rebuild_child(env: dict[str, str], topic: str) -> tuple[float, float]:
    """Rebuild in a child process; returns (seconds, peak RSS MiB of that process)."""
    code = f"""
import asyncio, resource, time, uuid
from relocation_shared.mongo import make_client
from readmodel_service.rebuild.service import rebuild
async def main():
    client = make_client({env["MONGODB_URI"]!r}, app_name="bench-rebuild")
    db = client["bench_rebuild_" + uuid.uuid4().hex[:6]]
    t0 = time.perf_counter()
    await rebuild(client=client, db=db, bootstrap={env["KAFKA_BOOTSTRAP_SERVERS"]!r}, topics=[{topic!r}])
    print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    await client.drop_database(db.name)
asyncio.run(main())
"""
    # the child reports its own peak: this process's other children (the stack's JVMs) do not count
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT)
    seconds, peak_kib = out.stdout.strip().splitlines()[-1].split()
    return float(seconds), int(peak_kib) / 1024


async def freshness(env: dict[str, str], rate: int, seconds: int) -> list[float]:
    with services(env, "governance", "employment", "readmodel") as (procs, secret):
        gov, emp, rm = (procs[n].url for n in ("governance", "employment", "readmodel"))
        h = {"Authorization": f"Bearer {token(secret)}"}
        rng = random.Random(3)
        async with httpx.AsyncClient(headers=h, timeout=30) as client:
            serial = rng.randint(100, 899)
            town, comm = f"520330{serial}000", f"520330{serial}001"
            for code, level, parent in [
                (town, "town", "520330"),
                (comm, "community", town),
                (f"{comm}-G01", "grid", comm),
                (f"{comm}-G01-B01", "building", f"{comm}-G01"),
            ]:
                await client.post(
                    f"{gov}/api/v1/areas", json={"code": code, "name": "压测", "level": level, "parent": parent}
                )
            hid = (
                await client.post(
                    f"{gov}/api/v1/households",
                    json={
                        "kind": "co_relocated",
                        "community_code": comm,
                        "grid_code": f"{comm}-G01",
                        "building_code": f"{comm}-G01-B01",
                    },
                )
            ).json()["id"]
            r = await client.post(
                f"{gov}/api/v1/residents/batch",
                json={
                    "items": [
                        {
                            "household_id": hid,
                            "community_code": comm,
                            "name": "压测",
                            "national_id": national_id(rng),
                            "labour_capacity": True,
                        }
                        for _ in range(20)
                    ]
                },
            )
            rids = [a["id"] for a in r.json()["accepted"]]
            while (await client.get(f"{emp}/api/v1/roster/residents/{rids[-1]}")).status_code != 200:
                await asyncio.sleep(0.1)

            seen: list[tuple[float, int]] = []
            ready = asyncio.Event()

            async def listen() -> None:
                async with (
                    httpx.AsyncClient(timeout=None, headers=h) as c,
                    c.stream("GET", f"{rm}/api/v1/stream?area=520330") as resp,
                ):
                    kind = ""
                    async for line in resp.aiter_lines():
                        if line.startswith("event: "):
                            kind = line[7:]
                        elif line.startswith("data: ") and kind == "view":
                            seen.append(
                                (time.perf_counter(), json.loads(line[6:])["counters"].get("training_person_times", 0))
                            )
                            ready.set()

            task = asyncio.create_task(listen())
            await ready.wait()
            base = seen[-1][1]
            answered: list[float] = []
            interval = 1 / rate
            t0 = time.perf_counter()

            async def write(i: int) -> None:
                await client.post(
                    f"{emp}/api/v1/trainings",
                    json={
                        "resident_id": rids[i % len(rids)],
                        "course": "电工",
                        "hours": 8,
                        "completed_on": business_today(system_clock).isoformat(),
                    },
                )
                answered.append(time.perf_counter())

            writes = []
            for i in range(rate * seconds):
                writes.append(asyncio.create_task(write(i)))
                await asyncio.sleep(max(0.0, t0 + (i + 1) * interval - time.perf_counter()))
            await asyncio.gather(*writes)
            deadline = time.perf_counter() + 10
            while seen[-1][1] - base < len(answered) and time.perf_counter() < deadline:
                await asyncio.sleep(0.05)
            task.cancel()
        answered.sort()
        lat = []
        for k, t_ans in enumerate(answered, start=1):
            t_seen = next((t for t, v in seen if v - base >= k), None)
            if t_seen is not None:
                lat.append(max(0.0, t_seen - t_ans) * 1000)
        return lat


async def main(n: int, rate: int, seconds: int, batch: int) -> None:
    with stack_env() as env:
        bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
        topic = f"bench.readmodel.{uuid.uuid4().hex[:6]}"
        await ensure_topics(bootstrap, [topic], partitions=6, replication=1)
        t0 = time.perf_counter()
        values = synthetic(n)
        print(f"generated {n:,} events in {time.perf_counter() - t0:.1f}s")
        print(f"produced in {await produce(bootstrap, topic, values):.1f}s")
        del values
        t_raw = await raw_decode(bootstrap, topic, n)
        t_fold = await live_fold(env, topic, n, batch)
        t_rebuild, peak = rebuild_child(env, topic)
        lat = await freshness(env, rate, seconds) if seconds > 0 else []
    print(f"ingest, {n:,} events:")
    print(f"  plain consumer, decode only: {n / t_raw:,.0f} events/s ({t_raw:.1f}s)")
    print(
        f"  read model fold (live consumer, batches of at most {batch:,}): {n / t_fold:,.0f} events/s ({t_fold:.1f}s)"
    )
    print(f"  ratio fold/raw: {t_raw / t_fold:.2f} (target ≥ 0.5)")
    print(f"rebuild of {n:,} events: {t_rebuild:.1f}s, peak RSS {peak:.0f} MiB")
    if lat:
        print(f"freshness at {rate} writes/s for {seconds}s ({len(lat)} writes matched):")
        print(
            f"  API response → view change on SSE: p50 {percentile(lat, 50):.0f} ms, p99 {percentile(lat, 99):.0f} ms"
        )


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--rate", type=int, default=200)
    ap.add_argument("--seconds", type=int, default=15, help="freshness run length (0: skip it)")
    ap.add_argument("--batch", type=int, default=Settings().batch_max_records, help="live fold's batch_max_records")
    a = ap.parse_args()
    asyncio.run(main(a.events, a.rate, a.seconds, a.batch))
