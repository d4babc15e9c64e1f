"""Community work on the real MongoDB-protocol server: the deadline scheduler across two
instances, a scan cancelled half-way and a restart (every escalation exactly once); concurrent
accepts of one request (exactly one wins); concurrent redemptions (the balance never goes
negative, no points spent twice)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from governance_service import community
from governance_service.community import CommunityServices
from governance_service.config import DEFAULT_REQUEST_DEADLINE_HOURS
from governance_service.disputes.models import DisputeIn
from governance_service.points.models import AwardIn, RedeemIn
from governance_service.registry import repository as registry_repository
from governance_service.registry.repository import MongoRegistryStore
from governance_service.requests.deadlines import DeadlinePolicy
from governance_service.requests.models import DispatchIn, RequestIn, ResidentRequest
from governance_service.staff.models import StaffIn
from relocation_shared.auth import Principal, Role
from relocation_shared.clock import FrozenClock
from relocation_shared.errors import Conflict, Forbidden, InvalidInput
from relocation_shared.events import CATALOG
from relocation_shared.mongo import make_client
from relocation_shared.outbox import OUTBOX, UnitOfWork, ensure_outbox_indexes
from tests.context import ctx
from tests.integration.kafka_helpers import wait_for

pytestmark = [pytest.mark.integration]

T0 = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
COUNTY, TOWN, COMMUNITY = "520330", "520330001000", "520330001001"
G1, G2 = f"{COMMUNITY}-G01", f"{COMMUNITY}-G02"
B1, B2 = f"{G1}-B01", f"{G2}-B01"
AREAS = [
    ("520000", "province", None),
    ("520300", "city", "520000"),
    (COUNTY, "county", "520300"),
    (TOWN, "town", COUNTY),
    (COMMUNITY, "community", TOWN),
    (G1, "grid", COMMUNITY),
    (G2, "grid", COMMUNITY),
    (B1, "building", G1),
    (B2, "building", G2),
]

CADRE = Principal(
    subject="cadre-li", name="李社区", roles=frozenset({Role.COMMUNITY_CADRE}), areas=frozenset({COMMUNITY})
)
WORKER = Principal(subject="grid-wang", name="王网格", roles=frozenset({Role.GRID_WORKER}), areas=frozenset({G1}))
# a grid worker of the other grid whose token happens to cover the whole community
OTHER = Principal(subject="grid-zhao", name="赵网格", roles=frozenset({Role.GRID_WORKER}), areas=frozenset({COMMUNITY}))


@pytest.fixture
async def db(mongo_client: Any) -> AsyncIterator[Any]:
    name = f"it_comm_{uuid.uuid4().hex[:10]}"
    database = mongo_client[name]
    await ensure_outbox_indexes(database)
    await registry_repository.ensure_indexes(database)
    await community.ensure_indexes(database)
    paths: dict[str, list[str]] = {}
    docs = []
    for code, level, parent in AREAS:
        paths[code] = [*paths[parent], code] if parent else [code]
        docs.append({"_id": code, "name": code, "level": level, "parent": parent, "path": paths[code]})
    await database.areas.insert_many(docs)
    yield database
    await mongo_client.drop_database(name)


def build(client: Any, db_name: str, clock: FrozenClock, *, concurrency: int = 8) -> CommunityServices:
    """One service instance: its own client, unit of work and scheduler."""
    db = client[db_name]
    return CommunityServices.build(
        uow=UnitOfWork(client, db, producer="governance", clock=clock),
        repo=MongoRegistryStore(db),
        db=db,
        policy=DeadlinePolicy(DEFAULT_REQUEST_DEADLINE_HOURS),
        pii_key=b"test-key",
        clock=clock,
        scan_concurrency=concurrency,
        scan_batch=10,
    )


async def outbox_types(db: Any) -> dict[str, Counter[str]]:
    """Per aggregate id, how many events of each type the outbox holds."""
    out: dict[str, Counter[str]] = {}
    async for entry in db[OUTBOX].find({}):
        env, _ = CATALOG.parse(entry["value"])
        out.setdefault(env.aggregate_id, Counter())[env.type] += 1
    return out


async def staffed(svc: CommunityServices) -> str:
    """A grid worker assigned to grid 1 by the community cadre; returns the staff id."""
    staff = await svc.staff.assign(
        ctx=ctx(CADRE), data=StaffIn(subject=WORKER.subject, name=WORKER.name, role="grid_worker", area_code=G1)
    )
    await svc.staff.assign(
        ctx=ctx(CADRE), data=StaffIn(subject=OTHER.subject, name=OTHER.name, role="grid_worker", area_code=G2)
    )
    return staff.id


# --- the deadline scheduler ---------------------------------------------------------------------------


async def test_scheduler_two_instances_a_cancelled_scan_and_a_restart_escalate_exactly_once(
    mongo_client: Any, mongo_uri: str, db: Any
) -> None:
    clock = FrozenClock(T0)
    first = build(mongo_client, db.name, clock)
    n = 30
    ids = []
    for i in range(n):
        r = await first.requests.submit(
            ctx=ctx(CADRE),
            data=RequestIn(category="other", description=f"诉求 {i}", building_code=B1, urgency="urgent"),
        )
        ids.append(r.id)
    # an urgent request must be dispatched within 4 hours: nothing is due before that
    quiet = await first.scheduler.scan(now=T0 + timedelta(hours=3, minutes=59))
    assert quiet.requests_due == 0 and quiet.requests_changed == 0

    # two instances (two clients, as two processes would have) scan the same due requests at once
    second_client = make_client(mongo_uri, app_name="it-instance-2")
    try:
        second = build(second_client, db.name, clock)
        t1 = T0 + timedelta(hours=4)
        r1, r2 = await asyncio.gather(first.scheduler.scan(now=t1), second.scheduler.scan(now=t1))
        assert r1.requests_changed + r2.requests_changed == n
        assert r1.failed == r2.failed == 0
        events = await outbox_types(db)
        for rid in ids:
            assert events[rid]["governance.request_overdue"] == 1
            assert events[rid]["governance.request_escalated"] == 1
        docs = {d["_id"]: d async for d in db.requests.find({"_id": {"$in": ids}})}
        assert {d["level"] for d in docs.values()} == {"grid"} and {d["version"] for d in docs.values()} == {2}
        assert {d["next_deadline_at"] for d in docs.values()} == {t1 + timedelta(hours=4)}
    finally:
        await second_client.close()

    # a scan that dies half-way (one request at a time, cancelled after a few), then a restart
    t2 = T0 + timedelta(hours=8)
    crashing_client = make_client(mongo_uri, app_name="it-crashing")
    try:
        crashing = build(crashing_client, db.name, clock, concurrency=1)
        task = asyncio.create_task(crashing.scheduler.scan(now=t2))

        async def some_done() -> bool:
            return await db.requests.count_documents({"level": "community"}) >= 5

        await wait_for(some_done, timeout=20, interval=0.005)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        await crashing_client.close()
    done_before_restart = await db.requests.count_documents({"level": "community"})
    assert 5 <= done_before_restart < n, "the scan was to be cancelled half-way"

    restarted_client = make_client(mongo_uri, app_name="it-restarted")
    try:
        restarted = build(restarted_client, db.name, clock)
        after = await restarted.scheduler.scan(now=t2)
        assert after.requests_changed == n - done_before_restart  # none lost
        assert (await restarted.scheduler.scan(now=t2)).requests_changed == 0  # none twice
    finally:
        await restarted_client.close()

    events = await outbox_types(db)
    docs = {d["_id"]: d async for d in db.requests.find({"_id": {"$in": ids}})}
    for rid in ids:
        assert events[rid]["governance.request_escalated"] == 2, rid
        assert events[rid]["governance.request_overdue"] == 2, rid
        assert docs[rid]["level"] == "community" and docs[rid]["version"] == 3
        assert docs[rid]["overdue_count"] == 2


async def test_scheduler_marks_an_overdue_dispute_once(mongo_client: Any, db: Any) -> None:
    clock = FrozenClock(T0)
    svc = build(mongo_client, db.name, clock)
    d = await svc.disputes.register(
        ctx=ctx(CADRE),
        data=DisputeIn(
            kind="neighbourhood",
            summary="楼上漏水引发邻里纠纷",
            community_code=COMMUNITY,
            building_code=B1,
            parties=[{"name": "张三"}, {"name": "李四", "role": "respondent"}],
            mediator_name="红帽子调解队",
            due_in_days=10,
        ),
    )
    assert [p.name_masked for p in d.parties] == ["张*", "李*"]
    assert (await svc.scheduler.scan(now=T0 + timedelta(days=9))).disputes_changed == 0
    due = T0 + timedelta(days=10)
    results = await asyncio.gather(svc.scheduler.scan(now=due), svc.scheduler.scan(now=due))
    assert sum(r.disputes_changed for r in results) == 1
    assert (await outbox_types(db))[d.id]["governance.dispute_overdue"] == 1
    assert (await svc.disputes.get(ctx=ctx(CADRE), dispute_id=d.id)).overdue


# --- concurrent accepts ------------------------------------------------------------------------------


async def test_concurrent_accepts_exactly_one_wins(mongo_client: Any, mongo_uri: str, db: Any) -> None:
    clock = FrozenClock(T0)
    svc = build(mongo_client, db.name, clock)
    staff_id = await staffed(svc)
    req = await svc.requests.submit(
        ctx=ctx(CADRE), data=RequestIn(category="housing", description="卫生间漏水", building_code=B1)
    )
    # the worker of the other grid cannot be dispatched to, nor act on it
    with pytest.raises(InvalidInput) as bad:
        await svc.requests.dispatch(
            ctx=ctx(CADRE),
            request_id=req.id,
            data=DispatchIn(
                staff_id=(await svc.staff.list(ctx=ctx(CADRE), area=G2, role=None, active_only=True, limit=5))[0].id
            ),
        )
    assert bad.value.field == "staff_id"
    await svc.requests.dispatch(ctx=ctx(CADRE), request_id=req.id, data=DispatchIn(staff_id=staff_id))
    with pytest.raises(Forbidden):
        await svc.requests.accept(ctx=ctx(OTHER), request_id=req.id)

    other_client = make_client(mongo_uri, app_name="it-accept-2")
    try:
        other_instance = build(other_client, db.name, clock)
        attempts = [
            (svc if i % 2 else other_instance).requests.accept(ctx=ctx(WORKER), request_id=req.id) for i in range(10)
        ]
        results = await asyncio.gather(*attempts, return_exceptions=True)
    finally:
        await other_client.close()
    wins = [r for r in results if isinstance(r, ResidentRequest)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1 and len(conflicts) == 9, results
    assert all(c.context["state"] == "accepted" for c in conflicts)
    doc = await db.requests.find_one({"_id": req.id})
    assert doc["state"] == "accepted" and doc["version"] == 3
    assert (await outbox_types(db))[req.id]["governance.request_accepted"] == 1


# --- concurrent redemptions --------------------------------------------------------------------------


async def test_concurrent_redemptions_never_overspend(mongo_client: Any, mongo_uri: str, db: Any) -> None:
    clock = FrozenClock(T0)
    svc = build(mongo_client, db.name, clock)
    hid = uuid.uuid4().hex
    await db.households.insert_one(
        {
            "_id": hid,
            "kind": "registered_poor",
            "community_code": COMMUNITY,
            "grid_code": G1,
            "building_code": B1,
            "area_path": [*[a for a, _, _ in AREAS[:6]], B1],
        }
    )
    await svc.points.award(
        ctx=ctx(CADRE), data=AwardIn(household_id=hid, category="volunteer", points=100, reason="参加志愿服务")
    )
    other_client = make_client(mongo_uri, app_name="it-redeem-2")
    try:
        other_instance = build(other_client, db.name, clock)
        attempts = [
            (svc if i % 2 else other_instance).points.redeem(
                ctx=ctx(CADRE), data=RedeemIn(household_id=hid, goods="大米一袋", points=30)
            )
            for i in range(10)
        ]
        results = await asyncio.gather(*attempts, return_exceptions=True)
        ok = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, Conflict)]
        assert len(ok) == 3 and len(refused) == 7, results
        assert all(r.field == "points" for r in refused)
        assert sorted(e.balance_after for e in ok) == [10, 40, 70]

        # the same redemption sent five times at once (a retried request): one entry, one debit
        await svc.points.award(
            ctx=ctx(CADRE), data=AwardIn(household_id=hid, category="hygiene", points=50, reason="环境卫生评比")
        )
        same = RedeemIn(household_id=hid, goods="洗衣粉", points=20, request_key="till-7-0001")
        replays = await asyncio.gather(
            *((svc if i % 2 else other_instance).points.redeem(ctx=ctx(CADRE), data=same) for i in range(5))
        )
        assert len({r.id for r in replays}) == 1
    finally:
        await other_client.close()

    account = await svc.points.account(ctx=ctx(CADRE), household_id=hid)
    assert account.balance == 100 - 90 + 50 - 20 == 40
    assert (account.awarded_total, account.redeemed_total) == (150, 110)
    assert sum(e.points for e in account.entries) == account.balance  # the ledger adds up
    assert len(account.entries) == 2 + 3 + 1
    assert (await outbox_types(db))[hid]["governance.points_redeemed"] == 4
    # beyond the balance: refused, nothing written
    with pytest.raises(Conflict) as err:
        await svc.points.redeem(ctx=ctx(CADRE), data=RedeemIn(household_id=hid, goods="电饭锅", points=41))
    assert err.value.context["balance"] == 40
    assert (await svc.points.account(ctx=ctx(CADRE), household_id=hid)).balance == 40
    assert await db.points_ledger.count_documents({"household_id": hid}) == 6
