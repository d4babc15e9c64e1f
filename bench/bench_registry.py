"""Registry write throughput and event latency, and the services' idle memory.

Figures printed:
- resident registrations per second through the API and the relay (until every event is on
  Kafka), against raw `insert_one` on the same MongoDB-protocol server in the same run: a ratio;
- p50 and p99 from the API's response to the event's arrival on Kafka;
- idle RSS of each service.

Run: make bench   (or: .venv/bin/python bench/bench_registry.py --residents 2000)
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from common import national_id, percentile, services, stack_env, token

from relocation_shared.events import CATALOG
from relocation_shared.kafka import partitions_of
from relocation_shared.mongo import make_client
from relocation_shared.topics import GOVERNANCE

COUNTY = "520330"


async def setup_place(client: httpx.AsyncClient, gov: str) -> dict[str, str]:
    serial = random.randint(100, 899)
    town, community = f"{COUNTY}{serial}000", f"{COUNTY}{serial}001"
    grid, building = f"{community}-G01", f"{community}-G01-B01"
    for code, level, parent in [
        (town, "town", COUNTY),
        (community, "community", town),
        (grid, "grid", community),
        (building, "building", grid),
    ]:
        r = await client.post(
            f"{gov}/api/v1/areas", json={"code": code, "name": "压测", "level": level, "parent": parent}
        )
        assert r.status_code in (201, 409), r.text
    return {"community_code": community, "grid_code": grid, "building_code": building}


class Tap:
    """Timestamps the arrival of each event of a topic on Kafka, by one field of its payload (a
    resident id, a ledger entry id); bench_projects.py uses it too."""

    def __init__(self, bootstrap: str, *, topic: str = GOVERNANCE, key: str = "resident_id") -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.key = key
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self.arrived: dict[str, float] = {}
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        parts = await partitions_of(self.bootstrap, [self.topic])  # a fresh consumer knows no partitions
        assert parts, f"no partitions of {self.topic}"
        self.consumer.assign(parts)
        ends = await self.consumer.end_offsets(parts)
        for tp in parts:
            self.consumer.seek(tp, ends[tp])
        self.task = asyncio.create_task(self.run())

    async def run(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for recs in batch.values():
                for r in recs:
                    _env, payload = CATALOG.parse(r.value)
                    key = getattr(payload, self.key, None)
                    if key:
                        self.arrived[key] = now

    async def wait_for(self, ids: set[str], timeout: float = 120) -> float:
        deadline = time.perf_counter() + timeout
        while not ids <= self.arrived.keys():
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{len(ids - self.arrived.keys())} events never arrived")
            await asyncio.sleep(0.01)
        return max(self.arrived[i] for i in ids)

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
        await self.consumer.stop()


async def run_requests(
    client: httpx.AsyncClient, requests: list[tuple[str, dict[str, Any]]], concurrency: int
) -> tuple[set[str], int, list[float], float]:
    """POST the (url, body) requests, `concurrency` in flight: the ids created (201), the number
    refused, each request's latency in ms, and the start time (bench_projects.py uses it too)."""
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    for req in requests:
        queue.put_nowait(req)
    ids: set[str] = set()
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        while not queue.empty():
            url, body = queue.get_nowait()
            t = time.perf_counter()
            resp = await client.post(url, json=body)
            latencies.append((time.perf_counter() - t) * 1000)
            if resp.status_code == 201:
                ids.add(resp.json()["id"])
            else:
                errors += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ids, errors, latencies, t0


async def main(n: int, concurrency: int, latency_samples: int) -> None:
    rng = random.Random(11)
    with stack_env() as env, services(env, "governance", "employment") as (procs, secret):
        await asyncio.sleep(3)
        idle = {name: p.rss_mib() for name, p in procs.items()}
        gov = procs["governance"].url
        headers = {"Authorization": f"Bearer {token(secret)}"}
        async with httpx.AsyncClient(headers=headers, timeout=30) as client:
            place = await setup_place(client, gov)
            r = await client.post(f"{gov}/api/v1/households", json={"kind": "co_relocated", **place})
            hid = r.json()["id"]
            tap = Tap(env["KAFKA_BOOTSTRAP_SERVERS"])
            await tap.start()

            def body() -> dict[str, Any]:
                return {
                    "household_id": hid,
                    "community_code": place["community_code"],
                    "name": "压测居民",
                    "national_id": national_id(rng),
                    "labour_capacity": True,
                }

            # throughput: n registrations, `concurrency` in flight, until all events are on Kafka
            requests = [(f"{gov}/api/v1/residents", body()) for _ in range(n)]
            ids, errors, _, t0 = await run_requests(client, requests, concurrency)
            t_api = time.perf_counter() - t0
            t_last = await tap.wait_for(ids)
            t_bus = t_last - t0
            api_rate = len(ids) / t_bus

            # latency: one request at a time, response → event on Kafka
            lat: list[float] = []
            for _ in range(latency_samples):
                resp = await client.post(f"{gov}/api/v1/residents", json=body())
                answered = time.perf_counter()
                rid = resp.json()["id"]
                arrived = await tap.wait_for({rid}, timeout=10)
                lat.append((arrived - answered) * 1000)
            await tap.stop()

        # raw insert_one on the same server, same count and concurrency
        mongo = make_client(env["MONGODB_URI"], app_name="bench")
        coll = mongo[f"bench_raw_{uuid.uuid4().hex[:6]}"].residents
        docs = [{"_id": uuid.uuid4().hex, "name": "压测居民", "labour_capacity": True, "n": i} for i in range(n)]
        it = iter(docs)

        async def raw_worker() -> None:
            for d in it:
                await coll.insert_one(d)

        t0 = time.perf_counter()
        await asyncio.gather(*(raw_worker() for _ in range(concurrency)))
        raw_rate = n / (time.perf_counter() - t0)
        await mongo.drop_database(coll.database.name)
        await mongo.close()

    print(f"resident registrations: {len(ids)} ok, {errors} failed, concurrency {concurrency}")
    print(f"  API answered all in {t_api:.2f}s; all events on Kafka after {t_bus:.2f}s")
    print(f"  through API + outbox + relay: {api_rate:,.0f} registrations/s")
    print(f"  raw insert_one, same server:  {raw_rate:,.0f} inserts/s")
    print(f"  ratio API/raw: {api_rate / raw_rate:.2f}")
    print(f"event latency, API response → event on Kafka ({len(lat)} samples):")
    print(f"  p50 {percentile(lat, 50):.1f} ms, p99 {percentile(lat, 99):.1f} ms, max {max(lat):.1f} ms")
    for name, mib in idle.items():
        print(f"idle RSS {name}: {mib:.0f} MiB")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--residents", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--latency-samples", type=int, default=300)
    a = ap.parse_args()
    asyncio.run(main(a.residents, a.concurrency, a.latency_samples))
