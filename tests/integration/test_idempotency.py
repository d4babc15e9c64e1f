"""Idempotency keys on the real MongoDB-protocol server, one service family at a time: a batch
sent twice with one key is applied once and answered twice alike; the same key with another
body is a 409 naming `Idempotency-Key`; no key behaves as before; twins sent at once register
once; the records carry their TTL index."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from employment_service.domain import Worker
from employment_service.repository import EmploymentRepository
from employment_service.repository import ensure_indexes as ensure_employment_indexes
from employment_service.service import EmploymentService
from governance_service.registry.repository import MongoRegistryStore
from governance_service.registry.service import RegistryService
from governance_service.wiring import ensure_indexes as ensure_governance_indexes
from projects_service.ledger.models import DisbursementIn
from projects_service.sources.models import FundingSourceIn
from projects_service.wiring import Services, build_services, mongo_stores
from projects_service.wiring import ensure_indexes as ensure_projects_indexes
from relocation_shared.auth import Principal, Role
from relocation_shared.clock import FrozenClock, system_clock
from relocation_shared.context import Context
from relocation_shared.errors import Conflict
from relocation_shared.idempotency import IDEMPOTENCY, RETENTION
from relocation_shared.outbox import OUTBOX, Tx, UnitOfWork, ensure_outbox_indexes
from tests.clock import NOW
from tests.context import ctx

pytestmark = pytest.mark.integration

COUNTY, TOWN, COMMUNITY = "520330", "520330001000", "520330001001"
GRID, BUILDING = f"{COMMUNITY}-G01", f"{COMMUNITY}-G01-B01"
PATH = ["520000", "520300", COUNTY, TOWN, COMMUNITY, GRID, BUILDING]
LEVELS = ["province", "city", "county", "town", "community", "grid", "building"]
OFFICER = Principal(subject="xishui-1", roles=frozenset({Role.COUNTY_OFFICER}), areas=frozenset({COUNTY}))
CITY = Principal(subject="city-1", roles=frozenset({Role.CITY_OFFICER}), areas=frozenset({"520300"}))


def keyed(principal: Principal, key: str | None) -> Context:
    return replace(ctx(principal, "req-idem"), idempotency_key=key)


@pytest.fixture
async def db(mongo_client: Any) -> Any:
    name = f"it_idem_{uuid.uuid4().hex[:10]}"
    database = mongo_client[name]
    await ensure_outbox_indexes(database)
    yield database
    await mongo_client.drop_database(name)


# --- governance: the registry ----------------------------------------------------------------------


@pytest.fixture
async def registry(mongo_client: Any, db: Any) -> RegistryService:
    await ensure_governance_indexes(db)
    docs = [
        {"_id": code, "name": code, "level": level, "parent": PATH[i - 1] if i else None, "path": PATH[: i + 1]}
        for i, (code, level) in enumerate(zip(PATH, LEVELS, strict=True))
    ]
    await db.areas.insert_many(docs)
    uow = UnitOfWork(mongo_client, db, producer="governance", clock=FrozenClock(NOW))
    return RegistryService(uow=uow, store=MongoRegistryStore(db), pii_key=b"k" * 32, clock=uow.clock, batch_max=50)


def household_rows(n: int) -> list[dict[str, Any]]:
    place = {"kind": "registered_poor", "community_code": COMMUNITY, "grid_code": GRID, "building_code": BUILDING}
    return [place | {"room": f"3-{i:03d}"} for i in range(n)] + [place | {"kind": "nobody"}]


async def test_a_household_batch_sent_twice_with_one_key_registers_each_household_once(
    registry: RegistryService, db: Any
) -> None:
    rows = household_rows(3)
    first = await registry.register_households_batch(ctx=keyed(OFFICER, "import-0001"), rows=rows)
    again = await registry.register_households_batch(ctx=keyed(OFFICER, "import-0001"), rows=rows)
    assert again == first and len(first.accepted) == 3 and [r.index for r in first.rejected] == [3]
    assert await db.households.count_documents({}) == 3 and await db[OUTBOX].count_documents({}) == 3
    (record,) = await db[IDEMPOTENCY].find({}).to_list(None)
    assert record["scope"] == "households.batch" and record["subject"] == OFFICER.subject
    assert record["at"] == NOW

    with pytest.raises(Conflict) as exc:
        await registry.register_households_batch(ctx=keyed(OFFICER, "import-0001"), rows=rows[:2])
    assert exc.value.field == "Idempotency-Key"
    assert await db.households.count_documents({}) == 3

    for _ in range(2):  # no key: every call registers, as before
        await registry.register_households_batch(ctx=keyed(OFFICER, None), rows=rows)
    assert await db.households.count_documents({}) == 9 and await db[IDEMPOTENCY].count_documents({}) == 1


async def test_twins_sent_at_once_register_once_and_get_the_same_answer(registry: RegistryService, db: Any) -> None:
    rows = household_rows(4)[:4]
    results = await asyncio.gather(
        *(registry.register_households_batch(ctx=keyed(OFFICER, "twin-0001"), rows=rows) for _ in range(3))
    )
    assert results[0] == results[1] == results[2] and len(results[0].accepted) == 4
    assert await db.households.count_documents({}) == 4 and await db[OUTBOX].count_documents({}) == 4


async def test_one_household_sent_twice_with_one_key_is_one_household(registry: RegistryService, db: Any) -> None:
    from governance_service.registry.models import HouseholdIn

    data = HouseholdIn.model_validate(household_rows(1)[0])
    first = await registry.register_household(ctx=keyed(OFFICER, "one-000001"), data=data)
    again = await registry.register_household(ctx=keyed(OFFICER, "one-000001"), data=data)
    assert again == first and await db.households.count_documents({}) == 1


async def test_the_keys_expire_by_a_ttl_index(registry: RegistryService, db: Any) -> None:
    indexes = await db[IDEMPOTENCY].index_information()
    assert indexes["expiry"]["key"] == [("at", 1)]
    assert indexes["expiry"]["expireAfterSeconds"] == RETENTION.total_seconds()


# --- employment: trainings -------------------------------------------------------------------------


async def test_a_training_batch_sent_twice_with_one_key_records_each_training_once(mongo_client: Any, db: Any) -> None:
    await ensure_employment_indexes(db)
    repo = EmploymentRepository(db)
    uow = UnitOfWork(mongo_client, db, producer="employment", clock=FrozenClock(NOW))
    service = EmploymentService(uow=uow, repo=repo, clock=uow.clock)

    async def roster(tx: Tx) -> None:
        await repo.upsert_household("h-1", area_path=PATH, kind="registered_poor", session=tx.session)
        for rid in ("r-1", "r-2"):
            worker = Worker(id=rid, household_id="h-1", area_path=PATH, labour_capacity=True)
            await repo.insert_resident(worker, tx.session)

    await uow.run(roster)
    rows = [{"resident_id": rid, "course": "电工", "hours": 40, "completed_on": "2026-02-20"} for rid in ("r-1", "r-2")]
    first = await service.record_trainings_batch(ctx=keyed(OFFICER, "train-0001"), rows=rows)
    again = await service.record_trainings_batch(ctx=keyed(OFFICER, "train-0001"), rows=rows)
    assert again == first and len(first.accepted) == 2
    assert await db.trainings.count_documents({}) == 2
    with pytest.raises(Conflict) as exc:
        await service.record_trainings_batch(ctx=keyed(OFFICER, "train-0001"), rows=rows[:1])
    assert exc.value.field == "Idempotency-Key"
    await service.record_trainings_batch(ctx=keyed(OFFICER, None), rows=rows)
    assert await db.trainings.count_documents({}) == 4


# --- projects: funding sources and disbursements ---------------------------------------------------


async def test_a_disbursement_batch_sent_twice_with_one_key_pays_once(mongo_client: Any, db: Any) -> None:
    from projects_service.projects.models import ProjectIn

    await ensure_projects_indexes(db)
    service: Services = build_services(
        uow=UnitOfWork(mongo_client, db, producer="projects"), stores=mongo_stores(db), clock=system_clock
    )
    source_in = FundingSourceIn(
        kind="central_earmarked", name="戴帽资金", area_code="520300", budgets=[{"year": 2024, "amount_fen": 10**8}]
    )
    src = await service.sources.register_source(ctx=keyed(CITY, "source-0001"), data=source_in)
    assert await service.sources.register_source(ctx=keyed(CITY, "source-0001"), data=source_in) == src
    assert await db.sources.count_documents({}) == 1
    project = await service.projects.approve(
        ctx=keyed(CITY, "project-0001"),
        data=ProjectIn(
            name="食用菌种植基地",
            kind="industry",
            chain="agriculture",
            community_codes=["520330101001"],
            allocations=[{"source_id": src.id, "year": 2024, "amount_fen": 10**7}],
            approved_on=date(2024, 3, 1),
        ),
    )
    pay = DisbursementIn(source_id=src.id, year=2024, amount_fen=10**6, disbursed_on=date(2024, 5, 1))
    rows = [{"project_id": project.id, **pay.model_dump(mode="json")} for _ in range(2)]
    first = await service.ledger.disburse_batch(ctx=keyed(CITY, "pay-000001"), rows=rows)
    again = await service.ledger.disburse_batch(ctx=keyed(CITY, "pay-000001"), rows=rows)
    assert again == first and len(first.accepted) == 2
    assert await db.ledger.count_documents({}) == 2
    (allocation,) = await db.allocations.find({}).to_list(None)
    assert allocation["remaining_fen"] == 10**7 - 2 * 10**6  # drawn once per row, not twice
    with pytest.raises(Conflict) as exc:
        await service.ledger.disburse_batch(ctx=keyed(CITY, "pay-000001"), rows=rows[:1])
    assert exc.value.field == "Idempotency-Key"


# --- governance: community work --------------------------------------------------------------------


async def test_staff_and_a_request_sent_twice_with_one_key_are_recorded_once(
    registry: RegistryService, mongo_client: Any, db: Any
) -> None:
    from governance_service.community import CommunityServices
    from governance_service.config import DEFAULT_REQUEST_DEADLINE_HOURS
    from governance_service.requests.deadlines import DeadlinePolicy
    from governance_service.requests.models import RequestIn
    from governance_service.staff.models import StaffIn

    clock = FrozenClock(NOW)
    community = CommunityServices.build(
        uow=UnitOfWork(mongo_client, db, producer="governance", clock=clock),
        repo=MongoRegistryStore(db),
        db=db,
        policy=DeadlinePolicy(DEFAULT_REQUEST_DEADLINE_HOURS),
        pii_key=b"test-key",
        clock=clock,
    )
    cadre = Principal(subject="cadre-li", roles=frozenset({Role.COMMUNITY_CADRE}), areas=frozenset({COMMUNITY}))
    staff_in = StaffIn(subject="grid-wang", name="王网格", role="grid_worker", area_code=GRID)
    first = await community.staff.assign(ctx=keyed(cadre, "staff-0001"), data=staff_in)
    assert await community.staff.assign(ctx=keyed(cadre, "staff-0001"), data=staff_in) == first
    request_in = RequestIn(category="housing", description="卫生间漏水", building_code=BUILDING)
    submitted = await community.requests.submit(ctx=keyed(cadre, "request-01"), data=request_in)
    assert await community.requests.submit(ctx=keyed(cadre, "request-01"), data=request_in) == submitted
    assert await db.requests.count_documents({}) == 1
    with pytest.raises(Conflict) as exc:
        other = RequestIn(category="housing", description="楼道灯不亮", building_code=BUILDING)
        await community.requests.submit(ctx=keyed(cadre, "request-01"), data=other)
    assert exc.value.field == "Idempotency-Key" and await db.requests.count_documents({}) == 1
