"""Bad input where the database is what failed, on the real MongoDB-protocol server: a rule
condition of 2**70 (beyond BSON's 8-byte integers) and a mediation session held at
0001-01-01T00:00:00 (whose UTC instant precedes year 1) were 500s from the driver and are now
422s naming the field, with nothing written; and two concurrent allocations that together would
exceed a source's budget: one passes, the other is refused (409), the budget never over-allocated."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from governance_service import community
from governance_service.disputes.models import DisputeIn, SessionIn
from governance_service.registry import repository as registry_repository
from notifications_service.delivery.domain import Channel
from notifications_service.rules.models import RuleUpdate
from notifications_service.wiring import build_services as notification_services
from notifications_service.wiring import ensure_indexes as notification_indexes
from notifications_service.wiring import mongo_stores as notification_stores
from projects_service.projects.models import AllocationIn, ProjectIn
from projects_service.sources.models import FundingSourceIn
from projects_service.wiring import build_services as project_services
from projects_service.wiring import ensure_indexes as project_indexes
from projects_service.wiring import mongo_stores as project_stores
from relocation_shared.auth import Principal, Role
from relocation_shared.clock import FrozenClock
from relocation_shared.errors import Conflict, InvalidInput
from relocation_shared.outbox import OUTBOX, UnitOfWork, ensure_outbox_indexes
from tests.context import ctx
from tests.integration.test_community_workflow import AREAS, B1, CADRE, COMMUNITY, build

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)
CITY = Principal(subject="city", roles=frozenset({Role.CITY_OFFICER}), areas=frozenset({"520300"}))


async def fresh_db(mongo_client: Any, prefix: str) -> Any:
    database = mongo_client[f"{prefix}_{uuid.uuid4().hex[:10]}"]
    await ensure_outbox_indexes(database)
    return database


# --- a rule condition beyond 8-byte integers ---------------------------------------------------------


@pytest.fixture
async def ntf_db(mongo_client: Any) -> AsyncIterator[Any]:
    database = await fresh_db(mongo_client, "it_bad_ntf")
    await notification_indexes(database)
    yield database
    await mongo_client.drop_database(database.name)


async def test_bad_input_a_rule_condition_of_2_to_the_70_is_a_422_and_the_rule_unchanged(
    mongo_client: Any, ntf_db: Any
) -> None:
    clock = FrozenClock(NOW)
    services = notification_services(
        uow=UnitOfWork(mongo_client, ntf_db, producer="notifications", clock=clock),
        stores=notification_stores(ntf_db),
        available_channels=[Channel.INBOX],
        default_channels=[Channel.INBOX],
        clock=clock,
    )
    await services.rules.seed_default_rules()
    rule_id = "default-zero-employment-raised"
    stored = await ntf_db.rules.find_one({"_id": rule_id})
    body = {k: stored[k] for k in RuleUpdate.model_fields if k in stored} | {
        "conditions": [{"field": "labour_count", "op": "gt", "value": 2**70}]
    }
    with pytest.raises(InvalidInput) as err:
        await services.rules.update_rule(ctx=ctx(CITY), rule_id=rule_id, data=RuleUpdate.model_validate(body))
    assert err.value.field == "conditions.0.value"
    after = await ntf_db.rules.find_one({"_id": rule_id})
    assert after["version"] == stored["version"] and after["conditions"] == stored["conditions"]


# --- a mediation session at the minimum datetime -----------------------------------------------------


@pytest.fixture
async def gov_db(mongo_client: Any) -> AsyncIterator[Any]:
    database = await fresh_db(mongo_client, "it_bad_gov")
    await registry_repository.ensure_indexes(database)
    await community.ensure_indexes(database)
    paths: dict[str, list[str]] = {}
    for code, level, parent in AREAS:
        paths[code] = [*paths[parent], code] if parent else [code]
        doc = {"_id": code, "name": code, "level": level, "parent": parent, "path": paths[code]}
        await database.areas.insert_one(doc)
    yield database
    await mongo_client.drop_database(database.name)


async def test_bad_input_a_session_held_at_0001_01_01_is_a_422_naming_held_at(mongo_client: Any, gov_db: Any) -> None:
    clock = FrozenClock(datetime(2025, 6, 2, 8, 0, tzinfo=UTC))
    svc = build(mongo_client, gov_db.name, clock)
    d = await svc.disputes.register(
        ctx=ctx(CADRE),
        data=DisputeIn(
            kind="neighbourhood",
            summary="楼上漏水引发邻里纠纷",
            community_code=COMMUNITY,
            building_code=B1,
            parties=[{"name": "张三"}, {"name": "李四", "role": "respondent"}],
            mediator_name="红帽子调解队",
        ),
    )
    events_before = await gov_db[OUTBOX].count_documents({})
    data = SessionIn.model_validate({"held_at": "0001-01-01T00:00:00", "note": "第一次调解"})
    with pytest.raises(InvalidInput) as err:
        await svc.disputes.add_session(ctx=ctx(CADRE), dispute_id=d.id, data=data)
    assert err.value.field == "held_at" and "2015-01-01" in err.value.message
    assert (await svc.disputes.get(ctx=ctx(CADRE), dispute_id=d.id)).sessions == []
    assert await gov_db[OUTBOX].count_documents({}) == events_before
    ok = SessionIn.model_validate({"held_at": "2025-06-02T09:00:00", "note": "第一次调解"})
    assert len((await svc.disputes.add_session(ctx=ctx(CADRE), dispute_id=d.id, data=ok)).sessions) == 1


# --- two concurrent allocations against one budget ---------------------------------------------------


@pytest.fixture
async def prj_db(mongo_client: Any) -> AsyncIterator[Any]:
    database = await fresh_db(mongo_client, "it_bad_prj")
    await project_indexes(database)
    yield database
    await mongo_client.drop_database(database.name)


def projects_over(mongo_client: Any, database: Any) -> Any:
    clock = FrozenClock(NOW)
    return project_services(
        uow=UnitOfWork(mongo_client, database, producer="projects", clock=clock),
        stores=project_stores(database),
        clock=clock,
    )


async def budgeted_source(service: Any, fen: int) -> str:
    data = FundingSourceIn(
        kind="central_earmarked", name="戴帽资金", area_code="520300", budgets=[{"year": 2025, "amount_fen": fen}]
    )
    return (await service.sources.register_source(ctx=ctx(CITY), data=data)).id


def project_in(sid: str, fen: int) -> ProjectIn:
    return ProjectIn(
        name="食用菌基地",
        kind="infrastructure",
        community_codes=["520330101001"],
        allocations=[{"source_id": sid, "year": 2025, "amount_fen": fen}],
        approved_on=date(2025, 2, 1),
    )


async def outcomes(*calls: Any) -> tuple[list[Any], list[BaseException]]:
    results = await asyncio.gather(*calls, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    return [r for r in results if not isinstance(r, BaseException)], errors


async def test_bad_input_two_concurrent_approvals_cannot_both_take_the_budget(mongo_client: Any, prj_db: Any) -> None:
    service = projects_over(mongo_client, prj_db)
    sid = await budgeted_source(service, 1_000)
    done, errors = await outcomes(
        *(service.projects.approve(ctx=ctx(CITY), data=project_in(sid, 1_000)) for _ in range(2))
    )
    assert len(done) == 1 and len(errors) == 1 and isinstance(errors[0], Conflict), errors
    budget = await prj_db.budgets.find_one({"_id": f"{sid}:2025"})
    assert (budget["allocated_fen"], budget["unallocated_fen"]) == (1_000, 0)
    assert await prj_db.projects.count_documents({}) == 1
    assert sum(a["amount_fen"] for a in await prj_db.allocations.find({}).to_list(None)) == 1_000


async def test_bad_input_two_concurrent_funding_additions_cannot_both_pass(mongo_client: Any, prj_db: Any) -> None:
    service = projects_over(mongo_client, prj_db)
    sid = await budgeted_source(service, 1_000)
    first = await service.projects.approve(ctx=ctx(CITY), data=project_in(sid, 1))
    second = await service.projects.approve(ctx=ctx(CITY), data=project_in(sid, 1))
    add = AllocationIn(source_id=sid, year=2025, amount_fen=998)
    done, errors = await outcomes(
        service.projects.allocate(ctx=ctx(CITY), project_id=first.id, data=add),
        service.projects.allocate(ctx=ctx(CITY), project_id=second.id, data=add),
    )
    assert len(done) == 1 and len(errors) == 1 and isinstance(errors[0], Conflict), errors
    budget = await prj_db.budgets.find_one({"_id": f"{sid}:2025"})
    assert (budget["allocated_fen"], budget["unallocated_fen"]) == (1_000, 0)
    assert sum(a["amount_fen"] for a in await prj_db.allocations.find({}).to_list(None)) == 1_000
