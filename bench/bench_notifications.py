"""Notifications: event → inbox throughput with 10,000 cadres in the directory, and event → push
latency on live inbox streams.

Setup: the service runs as a process; 10,000 cadres (per community one community cadre and four
grid workers, each grid worker on a grid of their own) are assigned by publishing the registry's
`governance.staff_assigned` events to Kafka, as the governance relay would. Each zero-employment
alert (`employment.household_zero_employment_raised`, published as the employment relay would)
tells two cadres: the community's cadre and the grid's worker (the default rule). The service's
consumer group starts at the topics' ends (a shared broker's history is not this run's work).

Figures printed:
- directory ingest: staffing events per second until all 10,000 cadres are known;
- throughput: a burst of alerts, notifications per second until every one is in its inbox
  (made in the consuming transaction, then delivered by the dispatcher);
- latency: alerts paced at a steady rate to cadres with an open SSE stream; p50/p99/max from
  the event's publication on Kafka to its arrival on the cadre's stream.

Run: make bench   (or: .venv/bin/python bench/bench_notifications.py --cadres 10000 --burst 3000)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import secrets
import time
import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import OffsetAndMetadata
from common import ROOT, percentile, stack_env
from procs import start_service

from notifications_service.events import CONSUMED_TOPICS
from relocation_shared.auth import mint_token
from relocation_shared.clock import system_clock
from relocation_shared.events import CATALOG, Envelope
from relocation_shared.events.employment import HouseholdZeroEmploymentRaised
from relocation_shared.events.governance import StaffAssigned
from relocation_shared.kafka import ensure_topics, make_producer, partitions_of
from relocation_shared.mongo import make_client
from relocation_shared.topics import DEAD_LETTER

GRIDS_PER_COMMUNITY = 4
LEVELS = ["province", "city", "county", "town", "community", "grid", "building"]


def community_paths(run: str, communities: int) -> list[list[str]]:
    """Area paths of the bench's communities (codes unique to this run)."""
    out = []
    for c in range(communities):
        town = f"T{run}-{c // 100:02d}"
        out.append(["520000", "520300", "520330", town, f"C{run}-{c:04d}"])
    return out


def staffing(run: str, communities: int) -> tuple[list[Envelope], list[dict[str, Any]]]:
    envs, grids = [], []
    for path in community_paths(run, communities):
        people = [("community_cadre", path, f"cadre-{path[-1]}")]
        for g in range(GRIDS_PER_COMMUNITY):
            grid_path = [*path, f"{path[-1]}-G{g}"]
            people.append(("grid_worker", grid_path, f"grid-{grid_path[-1]}"))
            grids.append({"path": [*grid_path, f"{grid_path[-1]}-B1"], "cadre": people[0][2], "worker": people[-1][2]})
        for role, area_path, subject in people:
            p = StaffAssigned(
                staff_id=f"stf-{subject}",
                subject=subject,
                name_masked="王*",
                role=role,
                area_code=area_path[-1],
                area_level=LEVELS[len(area_path) - 1],
            )
            envs.append(
                CATALOG.envelope(
                    p, producer="governance", area_path=area_path, aggregate_id=p.staff_id, occurred_at=system_clock()
                )
            )
    return envs, grids


def alert(grid: dict[str, Any]) -> Envelope:
    hid = uuid.uuid4().hex
    p = HouseholdZeroEmploymentRaised(household_id=hid, labour_count=1, since=system_clock(), cause="employment_ended")
    return CATALOG.envelope(
        p, producer="employment", area_path=grid["path"], aggregate_id=hid, occurred_at=system_clock()
    )


async def count(coll: Any, query: dict[str, Any], target: int, timeout: float, what: str) -> float:
    deadline = time.perf_counter() + timeout
    while True:
        n = await coll.count_documents(query)
        if n >= target:
            return time.perf_counter()
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{what}: {n} of {target} after {timeout:.0f}s")
        await asyncio.sleep(0.1)


async def start_at_end(bootstrap: str, group: str) -> None:
    """Commit the group's offsets at the consumed topics' ends before the service starts."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = await partitions_of(bootstrap, list(CONSUMED_TOPICS))
        consumer.assign(parts)
        ends = await consumer.end_offsets(parts)
        await consumer.commit({tp: OffsetAndMetadata(off, "") for tp, off in ends.items()})
    finally:
        await consumer.stop()


async def caught_up(url: str, timeout: float = 300) -> None:
    """Until the service's consumer reports no lag on any partition it was given."""
    deadline = time.perf_counter() + timeout
    async with httpx.AsyncClient(timeout=10) as client:
        while time.perf_counter() < deadline:
            text = (await client.get(f"{url}/metrics")).text
            lags = re.findall(r"^consumer_lag\{.*\} ([0-9.e+]+)$", text, re.M)
            if lags and all(float(x) == 0 for x in lags):
                return
            await asyncio.sleep(0.5)
    raise TimeoutError("the consumer did not catch up")


async def stream(
    url: str, token: str, arrived: dict[tuple[str, str], float], ready: asyncio.Event, subject: str
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=None) as client, client.stream("GET", url, headers=headers) as resp:
        kind = ""
        async for line in resp.aiter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                if kind == "ready":
                    ready.set()
                elif kind == "notification":
                    arrived[(json.loads(line[6:])["event_id"], subject)] = time.perf_counter()


async def main(cadres: int, burst: int, paced: int, rate: float, streams: int) -> None:
    run = uuid.uuid4().hex[:6]
    communities = cadres // (1 + GRIDS_PER_COMMUNITY)
    secret = secrets.token_hex(32)
    db_name = f"bench_notifications_{run}"
    with stack_env() as env:
        bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
        await ensure_topics(bootstrap, [*CATALOG.topics(), DEAD_LETTER], partitions=6, replication=1)
        group = f"bench-notifications-{run}"
        await start_at_end(bootstrap, group)  # other runs' history on a shared broker is not ours to time
        proc = start_service(
            "notifications",
            {
                **env,
                "JWT_SECRET": secret,
                "MONGODB_DATABASE": db_name,
                "CONSUMER_GROUP": group,
                "LOG_LEVEL": "WARNING",
            },
            log_dir=ROOT / ".stack" / "bench-logs",
        )
        mongo = make_client(env["MONGODB_URI"], app_name="bench")
        db = mongo[db_name]
        producer = make_producer(bootstrap, client_id="bench-notifications")
        await producer.start()
        tasks: list[asyncio.Task[None]] = []
        try:
            await asyncio.to_thread(proc.wait_ready)
            idle = proc.rss_mib()

            # the directory: `cadres` staffing events on the governance topic
            envs, grids = staffing(run, communities)
            t0 = time.perf_counter()
            futures = [await producer.send(CATALOG.topic_of(e.type), value=e.to_bytes(), key=e.key) for e in envs]
            await asyncio.gather(*futures)
            t_dir = await count(db.directory, {}, len(envs), 600, "directory") - t0
            await caught_up(proc.url)  # the topics' history (other runs' events) is behind us

            rng = random.Random(5)
            # throughput: a burst of alerts, each to one community cadre and one grid worker
            chosen = rng.sample(grids, min(burst, len(grids)))
            alerts = [alert(g) for g in chosen]
            t0 = time.perf_counter()
            futures = [await producer.send(CATALOG.topic_of(e.type), value=e.to_bytes(), key=e.key) for e in alerts]
            await asyncio.gather(*futures)
            t_published = time.perf_counter() - t0
            expected = 2 * len(alerts)
            t_made = await count(db.notifications, {}, expected, 900, "notifications made") - t0
            t_inbox = await count(db.notifications, {"inbox_at": {"$ne": None}}, expected, 900, "in inboxes") - t0

            # latency: cadres with an open stream, alerts at a steady rate
            watched = rng.sample(grids, min(streams // 2, len(grids)))
            arrived: dict[tuple[str, str], float] = {}
            url = f"{proc.url}/api/v1/inbox/stream"
            readies = []
            for g in watched:
                for subject, role, area in [
                    (g["worker"], "grid_worker", g["path"][5]),
                    (g["cadre"], "community_cadre", g["path"][4]),
                ]:
                    ready = asyncio.Event()
                    token = mint_token(secret=secret, subject=subject, roles=[role], areas=[area])
                    tasks.append(asyncio.create_task(stream(url, token, arrived, ready, subject)))
                    readies.append(ready)
            await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), timeout=60)
            sent: dict[tuple[str, str], float] = {}
            for i in range(paced):
                g = watched[i % len(watched)]
                e = alert(g)
                fut = await producer.send(CATALOG.topic_of(e.type), value=e.to_bytes(), key=e.key)
                await fut
                at = time.perf_counter()
                sent[(e.id, g["worker"])] = at
                sent[(e.id, g["cadre"])] = at
                await asyncio.sleep(1 / rate)
            for _ in range(1200):  # up to a minute for the last pushes
                if sent.keys() <= arrived.keys():
                    break
                await asyncio.sleep(0.05)
            lat = [(arrived[k] - t) * 1000 for k, t in sent.items() if k in arrived]
            missing = len(sent) - len(lat)
            busy = proc.rss_mib()
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await producer.stop()
            await asyncio.to_thread(proc.stop)
            await mongo.drop_database(db_name)
            await mongo.close()

    print(f"directory: {len(envs):,} cadres in {communities:,} communities ({GRIDS_PER_COMMUNITY} grids each)")
    print(f"  staffing events → directory: {len(envs) / t_dir:,.0f} events/s ({t_dir:.1f}s)")
    print(f"throughput: {len(alerts):,} zero-employment alerts in a burst (published in {t_published:.2f}s)")
    print(f"  {expected:,} notifications made in {t_made:.1f}s: {expected / t_made:,.0f} notifications/s")
    print(f"  all in their inboxes after {t_inbox:.1f}s: {expected / t_inbox:,.0f} notifications/s event → inbox")
    print(f"latency: {paced} alerts at {rate:g}/s to {len(readies)} cadres with an open inbox stream")
    print(f"  event on Kafka → on the cadre's stream ({len(lat)} pushes, {missing} missing):")
    if lat:
        print(f"  p50 {percentile(lat, 50):.0f} ms, p99 {percentile(lat, 99):.0f} ms, max {max(lat):.0f} ms")
    print(f"RSS notifications: idle {idle:.0f} MiB, after the run {busy:.0f} MiB")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--cadres", type=int, default=10_000)
    ap.add_argument("--burst", type=int, default=2_000, help="alerts in the throughput burst")
    ap.add_argument("--paced", type=int, default=200, help="alerts in the latency run")
    ap.add_argument("--rate", type=float, default=20.0, help="alerts per second in the latency run")
    ap.add_argument("--streams", type=int, default=200, help="open inbox streams in the latency run")
    a = ap.parse_args()
    asyncio.run(main(a.cadres, a.burst, a.paced, a.rate, a.streams))
