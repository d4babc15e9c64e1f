"""Allocations are held to the funding source's budget for the year, as disbursements are: two
allocations of 1,000 fen against a budget of 1,000 fen cannot both pass (409 naming the field),
whether at approval, in a batch or as funding added; a cancellation gives back to the budget
what it released, so it may be allocated again. Also: an approval dated before 2015 is refused."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from projects_service.ledger.models import DisbursementIn
from projects_service.projects.models import AllocationIn, ProjectIn, StatusIn
from projects_service.sources.models import FundingSourceIn
from projects_service.wiring import Services
from relocation_shared.auth import Principal, Role
from relocation_shared.errors import Conflict, InvalidInput
from tests.context import ctx
from tests.fakes.projects import FakeProjectsDb, fake_services
from tests.fakes.uow import FakeUnitOfWork

COMMUNITY = "520330101001"
CITY = Principal(subject="city", roles=frozenset({Role.CITY_OFFICER}), areas=frozenset({"520300"}))


@pytest.fixture
def fakes() -> tuple[Services, FakeUnitOfWork, FakeProjectsDb]:
    return fake_services()


async def source(service: Services, budget: int = 1_000) -> str:
    data = FundingSourceIn(
        kind="central_earmarked", name="戴帽资金", area_code="520300", budgets=[{"year": 2025, "amount_fen": budget}]
    )
    return (await service.sources.register_source(ctx=ctx(CITY), data=data)).id


def project(sid: str, amount: int, *, year: int = 2025, **changes: Any) -> ProjectIn:
    fields: dict[str, Any] = {
        "name": "食用菌基地",
        "kind": "infrastructure",
        "community_codes": [COMMUNITY],
        "allocations": [{"source_id": sid, "year": year, "amount_fen": amount}],
        "approved_on": date(2025, 2, 1),
    } | changes
    return ProjectIn(**fields)


def budget_of(db: FakeProjectsDb, sid: str) -> dict[str, Any]:
    return db.data["budgets"][f"{sid}:2025"]


async def test_a_second_approval_beyond_the_budget_is_refused_naming_the_field(fakes: Any) -> None:
    service, uow, db = fakes
    sid = await source(service)
    await service.projects.approve(ctx=ctx(CITY), data=project(sid, 1_000))
    uow.clear()
    with pytest.raises(Conflict) as err:
        await service.projects.approve(ctx=ctx(CITY), data=project(sid, 1_000))
    assert err.value.field == "allocations.0.amount_fen" and err.value.context == {"unallocated_fen": 0}
    assert "尚未安排的预算 0.00 元" in err.value.message
    assert len(db.data["projects"]) == 1 and uow.published == []
    assert (budget_of(db, sid)["allocated_fen"], budget_of(db, sid)["unallocated_fen"]) == (1_000, 0)


async def test_funding_added_beyond_the_budget_is_refused(fakes: Any) -> None:
    service, uow, db = fakes
    sid = await source(service)
    p = await service.projects.approve(ctx=ctx(CITY), data=project(sid, 600))
    uow.clear()
    with pytest.raises(Conflict) as err:
        await service.projects.allocate(
            ctx=ctx(CITY), project_id=p.id, data=AllocationIn(source_id=sid, year=2025, amount_fen=401)
        )
    assert err.value.field == "amount_fen" and err.value.context == {"unallocated_fen": 400}
    assert uow.published == [] and budget_of(db, sid)["unallocated_fen"] == 400
    await service.projects.allocate(
        ctx=ctx(CITY), project_id=p.id, data=AllocationIn(source_id=sid, year=2025, amount_fen=400)
    )
    assert budget_of(db, sid)["unallocated_fen"] == 0


async def test_a_batch_counts_its_own_earlier_rows(fakes: Any) -> None:
    service, _, db = fakes
    sid = await source(service)
    rows = [project(sid, 1_000).model_dump(mode="json") for _ in range(2)]
    result = await service.projects.approve_batch(ctx=ctx(CITY), rows=rows)
    assert [a.index for a in result.accepted] == [0]
    assert [(r.index, r.field) for r in result.rejected] == [(1, "allocations.0.amount_fen")]
    assert budget_of(db, sid)["allocated_fen"] == 1_000


async def test_a_year_without_a_budget_cannot_be_allocated(fakes: Any) -> None:
    service, _, _ = fakes
    sid = await source(service)
    with pytest.raises(Conflict) as err:
        await service.projects.approve(ctx=ctx(CITY), data=project(sid, 1, year=2024))
    assert err.value.field == "allocations.0.amount_fen" and "2024 年度预算" in err.value.message


async def test_a_cancellation_gives_the_unspent_allocation_back_to_the_budget(fakes: Any) -> None:
    service, _, db = fakes
    sid = await source(service)
    p = await service.projects.approve(ctx=ctx(CITY), data=project(sid, 1_000))
    await service.projects.change_status(
        ctx=ctx(CITY),
        project_id=p.id,
        data=StatusIn(status="cancelled", changed_on=date(2025, 3, 1), reason="选址变更"),
    )
    assert (budget_of(db, sid)["allocated_fen"], budget_of(db, sid)["unallocated_fen"]) == (0, 1_000)
    await service.projects.approve(ctx=ctx(CITY), data=project(sid, 1_000))


@pytest.mark.parametrize("day", [date(1, 1, 1), date(2014, 12, 31)])
async def test_an_approval_dated_before_2015_is_refused(fakes: Any, day: date) -> None:
    service, _, db = fakes
    sid = await source(service)
    with pytest.raises(InvalidInput) as err:
        await service.projects.approve(ctx=ctx(CITY), data=project(sid, 1, approved_on=day))
    assert err.value.field == "approved_on" and "2015-01-01" in err.value.message
    assert db.data["projects"] == {}


async def test_a_disbursement_dated_0001_01_01_is_refused(fakes: Any) -> None:
    service, _, db = fakes
    sid = await source(service)
    p = await service.projects.approve(ctx=ctx(CITY), data=project(sid, 1_000))
    data = DisbursementIn(source_id=sid, year=2025, amount_fen=10, disbursed_on=date(1, 1, 1))
    with pytest.raises(InvalidInput) as err:
        await service.ledger.disburse(ctx=ctx(CITY), project_id=p.id, data=data)
    assert err.value.field == "disbursed_on" and "2015-01-01" in err.value.message
    assert budget_of(db, sid)["disbursed_fen"] == 0
