"""Community work: the 四单 loop over HTTP and the cost of a deadline scan.

Figures printed:
- whole loops per second (submit → dispatch → accept → resolve → rate, five HTTP calls each,
  `--concurrency` loops in flight) against the governance service as a process, and the time
  until every request's `request_rated` event is on Kafka; p50/p99 of one loop's duration;
- deadline-scan cost with `--open` open requests inserted directly (none due: the index
  lookup alone; 1 % due: each handled in its own transaction with a compare-and-set and two
  events in the outbox), per scan and per handled request.

Run: make bench   (or: .venv/bin/python bench/bench_community.py --loops 300 --open 100000)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from bench_registry import Tap
from common import ROOT, percentile, stack_env, start_service

from governance_service.community import ensure_indexes
from governance_service.config import DEFAULT_REQUEST_DEADLINE_HOURS
from governance_service.disputes.repository import MongoDisputesStore
from governance_service.requests import repository as requests_repository
from governance_service.requests.deadlines import DeadlinePolicy
from governance_service.requests.domain import RequestCase
from governance_service.requests.repository import MongoRequestsStore
from governance_service.requests.scheduler import DeadlineScheduler
from governance_service.staff.domain import Actor
from relocation_shared.auth import mint_token
from relocation_shared.clock import system_clock
from relocation_shared.events.requests import RequestCategory, RequestSource, Urgency
from relocation_shared.mongo import make_client
from relocation_shared.outbox import OUTBOX, UnitOfWork, ensure_outbox_indexes
from relocation_shared.topics import GOVERNANCE

COUNTY = "520330"


@contextmanager
def governance(env: dict[str, str]) -> Iterator[tuple[str, str]]:
    """The governance service as a process, with a small area file (the repository ships none)."""
    run = uuid.uuid4().hex[:8]
    secret = secrets.token_hex(32)
    with tempfile.TemporaryDirectory() as tmp:
        areas = Path(tmp) / "areas.json"
        areas.write_text(
            json.dumps(
                [
                    {"code": "520000", "name": "贵州省", "level": "province", "parent": None},
                    {"code": "520300", "name": "遵义市", "level": "city", "parent": "520000"},
                    {"code": COUNTY, "name": "习水县", "level": "county", "parent": "520300"},
                ],
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        proc = start_service(
            "governance",
            {
                **env,
                "JWT_SECRET": secret,
                "PII_HASH_KEY": secrets.token_hex(32),
                "LOG_LEVEL": "WARNING",
                "MONGODB_DATABASE": f"bench_community_{run}",
                "AREAS_FILE": str(areas),
                "DEADLINE_SCAN_SECONDS": "3600",  # the loop's deadlines are days away anyway
            },
            log_dir=ROOT / ".stack" / "bench-logs",
        )
        try:
            proc.wait_ready()
            yield proc.url, secret
        finally:
            proc.stop()


def bearer(secret: str, sub: str, role: str, area: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(secret=secret, subject=sub, name=sub, roles=[role], areas=[area])}"}


class RatedTap(Tap):
    """Timestamps the arrival of each request's `request_rated` event (bench_registry's Tap,
    keyed by the record key, the request id, and only for that event type)."""

    def __init__(self, bootstrap: str) -> None:
        super().__init__(bootstrap, topic=GOVERNANCE, key="request_id")

    async def run(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for recs in batch.values():
                for r in recs:
                    if dict(r.headers).get("event_type") == b"governance.request_rated" and r.key is not None:
                        self.arrived[r.key.decode()] = now


async def loop_throughput(env: dict[str, str], loops: int, concurrency: int) -> None:
    with governance(env) as (url, secret):
        county = bearer(secret, "bench-county", "county_officer", COUNTY)
        town, community = f"{COUNTY}966000", f"{COUNTY}966001"
        grid, building = f"{community}-G01", f"{community}-G01-B01"
        cadre = bearer(secret, "bench-cadre", "community_cadre", community)
        worker = bearer(secret, "bench-worker", "grid_worker", grid)
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            for code, level, parent in [
                (town, "town", COUNTY),
                (community, "community", town),
                (grid, "grid", community),
                (building, "building", grid),
            ]:
                r = await client.post(
                    "/api/v1/areas", json={"code": code, "name": code, "level": level, "parent": parent}, headers=county
                )
                assert r.status_code == 201, r.text
            r = await client.post(
                "/api/v1/staff",
                json={"subject": "bench-worker", "name": "压测网格员", "role": "grid_worker", "area_code": grid},
                headers=cadre,
            )
            assert r.status_code == 201, r.text
            staff_id = r.json()["id"]
            tap = RatedTap(env["KAFKA_BOOTSTRAP_SERVERS"])
            await tap.start()

            durations: list[float] = []
            ids: set[str] = set()
            errors = 0
            todo = iter(range(loops))

            async def one_loop() -> None:
                nonlocal errors
                start = time.perf_counter()
                steps = [
                    (
                        "POST",
                        "/api/v1/requests",
                        {"category": "other", "description": "压测诉求", "building_code": building},
                        cadre,
                    ),
                ]
                r = await client.request(*steps[0][:2], json=steps[0][2], headers=steps[0][3])
                if r.status_code != 201:
                    errors += 1
                    return
                rid = r.json()["id"]
                for path, body, headers in [
                    ("dispatch", {"staff_id": staff_id}, cadre),
                    ("accept", None, worker),
                    ("resolve", {"summary": "已办结"}, worker),
                    ("rate", {"score": 5}, cadre),
                ]:
                    r = await client.post(f"/api/v1/requests/{rid}/{path}", json=body, headers=headers)
                    if r.status_code != 200:
                        errors += 1
                        return
                durations.append((time.perf_counter() - start) * 1000)
                ids.add(rid)

            async def runner() -> None:
                for _ in todo:
                    await one_loop()

            t0 = time.perf_counter()
            await asyncio.gather(*(runner() for _ in range(concurrency)))
            t_api = time.perf_counter() - t0
            t_bus = await tap.wait_for(ids) - t0
            await tap.stop()
            loaded, n_ok = list(durations), len(ids)

            # one loop at a time: the latency of the five calls without contention
            durations.clear()
            todo = iter(range(min(30, loops)))
            await runner()
            alone = list(durations)

    print(f"四单 loop over HTTP: {n_ok} loops ok, {errors} failed, {concurrency} in flight")
    print(f"  API: {n_ok / t_api:,.1f} loops/s ({5 * n_ok / t_api:,.0f} HTTP calls/s) in {t_api:.2f}s")
    print(f"  until every request_rated event is on Kafka: {t_bus:.2f}s → {n_ok / t_bus:,.1f} loops/s")
    print(f"  one loop under that load: p50 {percentile(loaded, 50):.0f} ms, p99 {percentile(loaded, 99):.0f} ms")
    print(f"  one loop alone ({len(alone)} in a row): p50 {percentile(alone, 50):.0f} ms, max {max(alone):.0f} ms")


async def scan_cost(env: dict[str, str], n_open: int, due_share: float) -> None:
    client = make_client(env["MONGODB_URI"], app_name="bench-scan")
    db = client[f"bench_scan_{uuid.uuid4().hex[:8]}"]
    try:
        await ensure_outbox_indexes(db)
        await ensure_indexes(db)
        policy = DeadlinePolicy(DEFAULT_REQUEST_DEADLINE_HOURS)
        t0 = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
        by = Actor(subject="bench", name="压测", role="community_cadre")
        path = ["520000", "520300", COUNTY, f"{COUNTY}966000", f"{COUNTY}966001", f"{COUNTY}966001-G01"]
        started = time.perf_counter()
        batch = []
        for i in range(n_open):
            case = RequestCase.submit(
                request_id=f"bench-{i:07d}",
                category=RequestCategory.OTHER,
                urgency=Urgency.GENERAL,
                source=RequestSource.RESIDENT,
                description="压测诉求",
                household_id=None,
                building_path=[*path, f"{path[-1]}-B{i % 99 + 1:02d}"],
                by=by,
                now=t0 + timedelta(seconds=i % 3600),
                policy=policy,
            )
            batch.append(requests_repository.to_doc(case))
            if len(batch) == 5000:
                await db.requests.insert_many(batch, ordered=False)
                batch = []
        if batch:
            await db.requests.insert_many(batch, ordered=False)
        insert_s = time.perf_counter() - started
        now = t0 + timedelta(hours=2)  # every dispatch deadline is a day away

        scheduler = DeadlineScheduler(
            uow=UnitOfWork(client, db, producer="governance"),
            requests=MongoRequestsStore(db),
            disputes=MongoDisputesStore(db),
            policy=policy,
            clock=system_clock,
        )
        idle = []
        for _ in range(5):
            s = time.perf_counter()
            result = await scheduler.scan(now=now)
            idle.append((time.perf_counter() - s) * 1000)
            assert result.requests_changed == 0
        n_due = int(n_open * due_share)
        due_ids = [f"bench-{i:07d}" for i in range(0, n_open, max(1, n_open // n_due))][:n_due]
        await db.requests.update_many(
            {"_id": {"$in": due_ids}}, {"$set": {"step_deadline_at": t0, "next_deadline_at": t0}}
        )
        s = time.perf_counter()
        result = await scheduler.scan(now=now)
        busy = time.perf_counter() - s
        assert result.requests_changed == len(due_ids), result
        outbox = await db[OUTBOX].count_documents({})
        assert outbox == 2 * len(due_ids)
        s = time.perf_counter()
        again = await scheduler.scan(now=now)
        after = (time.perf_counter() - s) * 1000
        assert again.requests_changed == 0
    finally:
        await client.drop_database(db.name)
        await client.close()

    print(f"deadline scan with {n_open:,} open requests (inserted in {insert_s:.1f}s):")
    print(f"  none due: median {statistics.median(idle):.1f} ms, max {max(idle):.1f} ms over {len(idle)} scans")
    print(
        f"  {len(due_ids):,} due ({due_share:.0%}): {busy:.2f}s, {busy / len(due_ids) * 1000:.1f} ms per escalated "
        f"request ({len(due_ids) / busy:,.0f}/s; {outbox:,} events in the outbox: overdue + escalated each)"
    )
    print(f"  the scan right after: {after:.1f} ms, nothing due again")


async def main(loops: int, concurrency: int, n_open: int, due_share: float) -> None:
    with stack_env() as env:
        await loop_throughput(env, loops, concurrency)
        await scan_cost(env, n_open, due_share)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--loops", type=int, default=300)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--open", type=int, default=100_000)
    ap.add_argument("--due-share", type=float, default=0.01)
    a = ap.parse_args()
    asyncio.run(main(a.loops, a.concurrency, a.open, a.due_share))
