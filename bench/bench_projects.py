"""Projects and their money: payment throughput and ledger recomputation.

Figures printed:
- payments (dividends, 分红) per second through the API, the outbox and the relay: `--payments`
  POSTs with `--concurrency` in flight to a projects-service process, spread over `--projects`
  operating projects, until every dividend_paid event is on Kafka; then disbursements the same
  way against one allocation and one budget (the contended case: every request draws on the
  same two balances, so concurrent transactions conflict and retry);
- ledger total recomputation: `--entries` ledger documents (default 1 million) inserted
  directly with insert_many in chunks (then the service's ledger indexes are built), then the
  summary's aggregation that recomputes the net
  totals by payment kind and source kind from every entry (city level, and one county), and
  the households-benefiting aggregation; the totals are checked against sums kept while
  generating.

Run: make bench   (or: .venv/bin/python bench/bench_projects.py --payments 1000 --entries 1000000)
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from collections import defaultdict
from typing import Any

import httpx
from bench_registry import Tap, run_requests
from common import percentile, services, stack_env, token

from projects_service.reports.repository import MongoReportsStore
from projects_service.wiring import ensure_indexes
from relocation_shared.mongo import make_client
from relocation_shared.topics import PROJECTS

COUNTIES = ("520302", "520303", "520304", "520322", "520323", "520324", "520325")
KINDS = (("disbursement", 0.4), ("dividend", 0.4), ("collective_income", 0.15), ("collective_asset", 0.05))
SOURCE_KINDS = ("central_earmarked", "city_special")
WAN = 1_000_000


async def payments(env: dict[str, str], n: int, concurrency: int, projects: int) -> None:
    with services(env, "projects") as (procs, secret):
        url = procs["projects"].url
        headers = {"Authorization": f"Bearer {token(secret)}"}
        community = f"520330{random.randint(100, 899)}001"
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
            r = await client.post(
                "/api/v1/funding-sources",
                json={
                    "kind": "central_earmarked",
                    "name": "压测资金",
                    "area_code": "520300",
                    "budgets": [{"year": 2025, "amount_fen": 10**12}],
                },
            )
            sid = r.json()["id"]
            pids = []
            for k in range(projects):
                r = await client.post(
                    "/api/v1/projects",
                    json={
                        "name": f"压测产业项目{k}",
                        "kind": "industry",
                        "chain": "light_industry",
                        "community_codes": [community],
                        "allocations": [{"source_id": sid, "year": 2025, "amount_fen": 10**10}],
                        "approved_on": "2025-01-02",
                    },
                )
                pids.append(r.json()["id"])
            rows = [{"project_id": pid, "status": "under_construction", "changed_on": "2025-01-10"} for pid in pids]
            rows += [{"project_id": pid, "status": "operating", "changed_on": "2025-03-01"} for pid in pids]
            r = await client.post("/api/v1/projects/status/batch", json={"items": rows})
            assert not r.json()["rejected"], r.text
            tap = Tap(env["KAFKA_BOOTSTRAP_SERVERS"], topic=PROJECTS, key="entry_id")
            await tap.start()
            dividend = {
                "recipient": "collective",
                "community_code": community,
                "amount_fen": 100 * 100,
                "year": 2025,
                "paid_on": "2025-12-20",
            }
            ids, errors, lat, t0 = await run_requests(
                client, [(f"/api/v1/projects/{pids[i % projects]}/dividends", dividend) for i in range(n)], concurrency
            )
            t_api = time.perf_counter() - t0
            t_bus = await tap.wait_for(ids, timeout=300) - t0
            disbursement = {"source_id": sid, "year": 2025, "amount_fen": 100 * 100, "disbursed_on": "2025-02-01"}
            d_ids, d_errors, d_lat, d0 = await run_requests(
                client, [(f"/api/v1/projects/{pids[0]}/disbursements", disbursement)] * n, concurrency
            )
            d_api = time.perf_counter() - d0
            d_bus = await tap.wait_for(d_ids, timeout=300) - d0
            await tap.stop()
            summary = (await client.get("/api/v1/summary", params={"area": community})).json()
    assert summary["total"]["dividends_paid"]["fen"] == len(ids) * 100 * 100
    assert summary["total"]["disbursed"]["fen"] == len(d_ids) * 100 * 100
    print(f"dividends spread over {projects} projects: {len(ids)} paid, {errors} failed, concurrency {concurrency}")
    print(f"  API answered all in {t_api:.2f}s; all events on Kafka after {t_bus:.2f}s")
    print(f"  through API + outbox + relay: {len(ids) / t_bus:,.0f} payments/s")
    print(f"  request latency p50 {percentile(lat, 50):.1f} ms, p99 {percentile(lat, 99):.1f} ms")
    print(f"disbursements on one allocation and one budget: {len(d_ids)} paid, {d_errors} failed")
    print(f"  API answered all in {d_api:.2f}s; all events on Kafka after {d_bus:.2f}s")
    print(f"  through API + outbox + relay: {len(d_ids) / d_bus:,.0f} payments/s")
    print(f"  request latency p50 {percentile(d_lat, 50):.1f} ms, p99 {percentile(d_lat, 99):.1f} ms")


def ledger_doc(rng: random.Random, sums: dict[tuple[str, str], int], households: dict[str, int]) -> dict[str, Any]:
    r, acc = rng.random(), 0.0
    kind = KINDS[-1][0]
    for k, share in KINDS:
        acc += share
        if r < acc:
            kind = k
            break
    county = rng.choice(COUNTIES)
    community = f"{county}{rng.randint(1, 9):03d}{rng.randint(1, 4):03d}"
    path = ["520000", "520300", county, community[:9] + "000", community]
    source_kind = rng.choice(SOURCE_KINDS)
    amount = rng.randint(1, 500) * 100 * 100
    if rng.random() < 0.02:  # a reversal of an earlier payment
        amount = -amount
    household = None
    if kind == "dividend" and rng.random() < 0.3:
        household = f"h{rng.randint(1, 50_000)}"
        households[f"{household}|{source_kind}"] += amount
    sums[(kind, "total")] += amount
    sums[(kind, source_kind)] += amount
    return {
        "_id": uuid.uuid4().hex,
        "kind": kind,
        "amount_fen": amount,
        "reversal_of": None,
        "project_id": uuid.uuid4().hex,
        "source_kind": source_kind if kind == "disbursement" else None,
        "source_kinds": [source_kind],
        "year": rng.randint(2020, 2025),
        "recipient": ("household" if household else "collective") if kind == "dividend" else None,
        "community_code": community,
        "household_id": household,
        "occurred_on": "2025-06-30",
        "area_path": path,
        "aggregate_id": community,
        "recorded_at": None,
    }


async def recomputation(env: dict[str, str], entries: int, chunk: int) -> None:
    client = make_client(env["MONGODB_URI"], app_name="bench-projects")
    db = client[f"bench_projects_ledger_{uuid.uuid4().hex[:6]}"]
    try:
        rng = random.Random(2025)
        sums: dict[tuple[str, str], int] = defaultdict(int)
        households: dict[str, int] = defaultdict(int)
        t0 = time.perf_counter()
        for start in range(0, entries, chunk):
            docs = [ledger_doc(rng, sums, households) for _ in range(min(chunk, entries - start))]
            await db.ledger.insert_many(docs, ordered=False)
        t_insert = time.perf_counter() - t0
        t0 = time.perf_counter()
        await ensure_indexes(db)  # as the service keeps its ledger: by project, community, area
        t_index = time.perf_counter() - t0

        repo = MongoReportsStore(db)
        t0 = time.perf_counter()
        totals = (await repo.ledger_totals("520300"))[0]
        t_city = time.perf_counter() - t0
        t0 = time.perf_counter()
        await repo.ledger_totals(COUNTIES[0])
        t_county = time.perf_counter() - t0
        t0 = time.perf_counter()
        benefiting, _ = await repo.households_benefiting("520300")
        t_households = time.perf_counter() - t0

        for row in totals["total"]:
            assert row["fen"] == sums[(row["_id"], "total")], row
        for row in totals["by_source_kind"]:
            assert row["fen"] == sums[(row["_id"]["kind"], row["_id"]["source_kind"])], row
        assert benefiting == len({key.split("|")[0] for key, v in households.items() if v > 0})
    finally:
        await client.drop_database(db.name)
        await client.close()
    print(f"ledger: {entries:,} entries inserted with insert_many (chunks of {chunk:,}) in {t_insert:.1f}s")
    print(f"  ({entries / t_insert:,.0f} entries/s); the service's indexes built afterwards in {t_index:.1f}s")
    print(f"  recompute net totals by kind and source kind, whole city: {t_city:.2f}s (checked against the sums)")
    print(f"  the same for one county ({entries // len(COUNTIES):,} entries of {entries:,}): {t_county:.2f}s")
    print(f"  households benefiting, whole city: {t_households:.2f}s ({benefiting:,} households)")


async def main(args: argparse.Namespace) -> None:
    with stack_env() as env:
        if args.payments:
            await payments(env, args.payments, args.concurrency, args.projects)
        if args.entries:
            await recomputation(env, args.entries, args.chunk)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--payments", type=int, default=1000, help="dividends, then disbursements, through the API")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--projects", type=int, default=32, help="operating projects the dividends are spread over")
    ap.add_argument("--entries", type=int, default=1_000_000, help="ledger entries to recompute totals from")
    ap.add_argument("--chunk", type=int, default=10_000)
    known, _ = ap.parse_known_args()  # bench.sh passes BENCH_ARGS to every benchmark
    asyncio.run(main(known))
