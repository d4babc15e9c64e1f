"""The money rules of the projects service, without I/O: amounts in fen (no negatives, no
fractions), the display in yuan and 万元, drawdowns against an allocation and a year's budget,
dividends only while operating and only to the project's communities, an append-only ledger
corrected by compensating entries, and households benefiting counted once."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from projects_service.ledger.domain import Balance, OverDraw, benefit_delta, check_disbursement
from projects_service.ledger.models import DisbursementIn, DividendIn, ReversalIn
from projects_service.money import Money, wan_yuan, yuan
from projects_service.projects.models import ProjectIn, StatusIn
from projects_service.sources.models import BudgetSet, FundingSourceIn
from projects_service.wiring import Services
from relocation_shared.auth import Principal, Role
from relocation_shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from relocation_shared.ids import new_id
from tests.clock import NOW
from tests.context import ctx
from tests.fakes.projects import FakeProjectsDb, fake_services, register_household
from tests.fakes.uow import FakeUnitOfWork

COMMUNITY, NEIGHBOUR = "520330101001", "520330101002"
WAN = 1_000_000
CITY = Principal(subject="city", roles=frozenset({Role.CITY_OFFICER}), areas=frozenset({"520300"}))


# --- amounts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "message"),
    [(-1, "负数"), (0, "大于 0"), (1.5, "整数"), (100.0, "整数"), ("100", "整数"), (True, "整数"), (10**14, "过大")],
)
def test_an_amount_is_a_positive_whole_number_of_fen(amount: Any, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        DisbursementIn(source_id="s", year=2025, amount_fen=amount, disbursed_on=date(2025, 1, 1))
    err = exc.value.errors()[0]
    assert err["loc"] == ("amount_fen",) and message in str(err["ctx"]["error"])


def test_a_budget_may_be_zero_but_not_negative() -> None:
    assert FundingSourceIn(kind="other", name="x", area_code="520330", budgets=[{"year": 2025, "amount_fen": 0}])
    with pytest.raises(ValidationError):
        FundingSourceIn(kind="other", name="x", area_code="520330", budgets=[{"year": 2025, "amount_fen": -5}])


def test_fen_read_as_yuan_and_wan_yuan_exactly() -> None:
    assert yuan(68_000_000_000) == "680000000.00"
    assert yuan(1) == "0.01" and yuan(-150) == "-1.50" and yuan(0) == "0.00"
    assert wan_yuan(1_449_170_000) == "1449.17" and wan_yuan(149_540_000) == "149.54"
    assert wan_yuan(5_000) == "0.01" and wan_yuan(4_999) == "0.00"  # half up at the last place
    assert Money.of(24_000_000_000).model_dump() == {
        "fen": 24_000_000_000,
        "yuan": "240000000.00",
        "wan_yuan": "24000.00",
    }


def test_a_drawdown_never_goes_below_zero_on_either_balance() -> None:
    allocation, budget = Balance("a", 100), Balance("b", 70)
    check_disbursement(amount=60, allocation=allocation, budget=budget)
    assert (allocation.remaining, budget.remaining, allocation.drawn) == (40, 10, 60)
    with pytest.raises(Conflict) as exc:
        check_disbursement(amount=20, allocation=allocation, budget=budget)  # the budget binds
    assert exc.value.field == "amount_fen" and "预算" in exc.value.message
    with pytest.raises(Conflict) as exc:
        check_disbursement(amount=41, allocation=allocation, budget=Balance("c", 1000))  # the allocation binds
    assert exc.value.field == "amount_fen" and "额度" in exc.value.message
    assert (allocation.remaining, budget.remaining) == (40, 10)  # a refused drawdown draws nothing
    with pytest.raises(OverDraw):
        Balance("d", 5).draw(6)


def test_households_benefiting_counts_a_household_once() -> None:
    assert benefit_delta(0, 1) == 1
    assert benefit_delta(1, 1) == 0
    assert benefit_delta(2, -1) == 0
    assert benefit_delta(1, -1) == -1
    with pytest.raises(ValueError):
        benefit_delta(0, -1)


# --- use cases on fakes ----------------------------------------------------------------------------


@pytest.fixture
def fakes() -> tuple[Services, FakeUnitOfWork, FakeProjectsDb]:
    return fake_services()


async def setup_project(service: Services, *, budget_wan: int, amount_wan: int, status: str) -> tuple[str, str]:
    source = await service.sources.register_source(
        ctx=ctx(CITY),
        data=FundingSourceIn(
            kind="central_earmarked",
            name="戴帽资金",
            area_code="520300",
            budgets=[{"year": 2025, "amount_fen": budget_wan * WAN}],
        ),
    )
    project = await service.projects.approve(
        ctx=ctx(CITY),
        data=ProjectIn(
            name="鞋服加工厂房",
            kind="industry",
            chain="light_industry",
            community_codes=[COMMUNITY],
            allocations=[{"source_id": source.id, "year": 2025, "amount_fen": amount_wan * WAN}],
            approved_on=date(2025, 2, 1),
        ),
    )
    for step in ("under_construction", "operating"):
        if status == "approved":
            break
        await service.projects.change_status(
            ctx=ctx(CITY), project_id=project.id, data=StatusIn(status=step, changed_on=date(2025, 3, 1))
        )
        if status == step:
            break
    return source.id, project.id


def pay(source_id: str, amount: int) -> DisbursementIn:
    return DisbursementIn(source_id=source_id, year=2025, amount_fen=amount, disbursed_on=date(2025, 4, 1))


async def test_a_disbursement_beyond_the_allocation_writes_nothing(fakes: Any) -> None:
    service, uow, repo = fakes
    sid, pid = await setup_project(service, budget_wan=1000, amount_wan=100, status="under_construction")
    await service.ledger.disburse(ctx=ctx(CITY), project_id=pid, data=pay(sid, 70 * WAN))
    state, events = copy.deepcopy(repo.data), list(uow.published)

    with pytest.raises(Conflict) as exc:
        await service.ledger.disburse(ctx=ctx(CITY), project_id=pid, data=pay(sid, 30 * WAN + 1))
    assert exc.value.field == "amount_fen" and exc.value.context["remaining_fen"] == 30 * WAN
    assert repo.data == state and uow.published == events

    await service.ledger.disburse(ctx=ctx(CITY), project_id=pid, data=pay(sid, 30 * WAN))  # exactly what is left
    project = await service.projects.get_project(ctx=ctx(CITY), project_id=pid)
    assert project.disbursed.fen == 100 * WAN and project.allocations[0].remaining.fen == 0


async def test_a_batch_keeps_the_rows_that_fit_and_reports_the_one_that_overspends(fakes: Any) -> None:
    service, uow, _ = fakes
    sid, pid = await setup_project(service, budget_wan=1000, amount_wan=100, status="under_construction")
    row = {"project_id": pid, "source_id": sid, "year": 2025, "disbursed_on": "2025-04-01"}
    result = await service.ledger.disburse_batch(
        ctx=ctx(CITY),
        rows=[
            {**row, "amount_fen": 60 * WAN},
            {**row, "amount_fen": 60 * WAN},  # together with the first: beyond the allocation
            {**row, "amount_fen": 40 * WAN},
            {**row, "amount_fen": -1},
        ],
    )
    assert [a.index for a in result.accepted] == [0, 2]
    assert [(r.index, r.field) for r in result.rejected] == [(1, "amount_fen"), (3, "amount_fen")]
    assert uow.types().count("projects.funds_disbursed") == 2


async def test_the_year_budget_binds_across_projects(fakes: Any) -> None:
    service, _, _ = fakes
    sid, first = await setup_project(service, budget_wan=100, amount_wan=80, status="under_construction")
    project = await service.projects.approve(
        ctx=ctx(CITY),
        data=ProjectIn(
            name="第二个项目",
            kind="infrastructure",
            community_codes=[COMMUNITY, NEIGHBOUR],
            allocations=[{"source_id": sid, "year": 2025, "amount_fen": 20 * WAN}],
            approved_on=date(2025, 2, 1),
        ),
    )
    assert project.area_path == ["520000", "520300", "520330", "520330101000"]  # both communities' town
    # the budget cut after both allocations: the disbursements together are held to it
    await service.sources.set_budget(ctx=ctx(CITY), source_id=sid, year=2025, data=BudgetSet(amount_fen=90 * WAN))
    await service.ledger.disburse(ctx=ctx(CITY), project_id=first, data=pay(sid, 80 * WAN))
    with pytest.raises(Conflict) as exc:
        await service.ledger.disburse(ctx=ctx(CITY), project_id=project.id, data=pay(sid, 10 * WAN + 1))
    assert "预算余额" in exc.value.message
    await service.ledger.disburse(ctx=ctx(CITY), project_id=project.id, data=pay(sid, 10 * WAN))
    budget = (await service.sources.get_source(ctx=ctx(CITY), source_id=sid)).budgets[0]
    assert budget.remaining.fen == 0 and budget.disbursed.fen == 90 * WAN


async def test_a_dividend_needs_an_operating_project_and_a_household_of_its_communities(fakes: Any) -> None:
    service, uow, repo = fakes
    _, pid = await setup_project(service, budget_wan=1000, amount_wan=100, status="under_construction")
    households = {}
    for code in (COMMUNITY, NEIGHBOUR):
        hid = new_id()
        area_path = ["520000", "520300", "520330", code[:9] + "000", code]
        await register_household(
            service.jobs,
            code,
            household_id=hid,
            kind="co_relocated",
            registered_on=date(2019, 1, 1),
            area_path=area_path,
            at=NOW,
        )
        households[code] = hid
    to_household = DividendIn(
        recipient="household",
        household_id=households[COMMUNITY],
        amount_fen=3000 * 100,
        year=2025,
        paid_on=date(2025, 12, 1),
    )
    state, n_events = copy.deepcopy(repo.data), len(uow.published)
    with pytest.raises(Conflict) as exc:
        await service.ledger.pay_dividend(ctx=ctx(CITY), project_id=pid, data=to_household)
    assert exc.value.field == "status" and exc.value.context["current"] == "under_construction"

    await service.projects.change_status(
        ctx=ctx(CITY), project_id=pid, data=StatusIn(status="operating", changed_on=date(2025, 9, 1))
    )
    state, n_events = copy.deepcopy(repo.data), len(uow.published)
    outside = to_household.model_copy(update={"household_id": households[NEIGHBOUR]})
    with pytest.raises(InvalidInput) as exc2:
        await service.ledger.pay_dividend(ctx=ctx(CITY), project_id=pid, data=outside)
    assert exc2.value.field == "household_id"
    with pytest.raises(NotFound):
        await service.ledger.pay_dividend(
            ctx=ctx(CITY), project_id=pid, data=to_household.model_copy(update={"household_id": "nobody"})
        )
    with pytest.raises(InvalidInput) as exc3:
        await service.ledger.pay_dividend(
            ctx=ctx(CITY),
            project_id=pid,
            data=DividendIn(recipient="collective", amount_fen=1, year=2025, paid_on=date(2025, 12, 1)),
        )
    assert exc3.value.field == "community_code"
    assert repo.data == state and len(uow.published) == n_events

    first = await service.ledger.pay_dividend(ctx=ctx(CITY), project_id=pid, data=to_household)
    second = await service.ledger.pay_dividend(ctx=ctx(CITY), project_id=pid, data=to_household)
    paid = [e.payload for e in uow.published if e.type == "projects.dividend_paid"]
    assert [p["households_benefiting_delta"] for p in paid] == [1, 0]
    assert (await service.reports.summary(ctx=ctx(CITY), area="520330")).total.households_benefiting == 1

    # Corrected by compensating entries, never edited: the household stops benefiting only
    # when its last dividend is reversed.
    original = copy.deepcopy(repo.data["ledger"][first.id])
    await service.reversal.reverse(ctx=ctx(CITY), entry_id=first.id, data=ReversalIn(reason="金额有误"))
    await service.reversal.reverse(ctx=ctx(CITY), entry_id=second.id, data=ReversalIn(reason="金额有误"))
    assert repo.data["ledger"][first.id] == original
    reversed_ = [e.payload for e in uow.published if e.type == "projects.payment_reversed"]
    assert [p["households_benefiting_delta"] for p in reversed_] == [0, -1]
    summary = await service.reports.summary(ctx=ctx(CITY), area="520330")
    assert summary.total.dividends_paid.fen == 0 and summary.total.households_benefiting == 0
    with pytest.raises(Conflict):
        await service.reversal.reverse(ctx=ctx(CITY), entry_id=first.id, data=ReversalIn(reason="再次冲正"))
    assert len(repo.data["ledger"]) == 4


async def test_collective_income_needs_a_community_in_scope_and_of_the_project(fakes: Any) -> None:
    service, uow, _ = fakes
    _, pid = await setup_project(service, budget_wan=1000, amount_wan=100, status="operating")
    from projects_service.ledger.models import CollectiveIncomeIn

    income = CollectiveIncomeIn(amount_fen=12 * WAN, year=2025, received_on=date(2025, 12, 25), project_id=pid)
    entry = await service.collective.record_collective_income(ctx=ctx(CITY), community_code=COMMUNITY, data=income)
    assert entry.amount.wan_yuan == "12.00" and entry.area_path[-1] == COMMUNITY
    with pytest.raises(InvalidInput) as exc:
        await service.collective.record_collective_income(ctx=ctx(CITY), community_code=NEIGHBOUR, data=income)
    assert exc.value.field == "project_id"
    with pytest.raises(InvalidInput) as exc:
        await service.collective.record_collective_income(ctx=ctx(CITY), community_code="520330101000", data=income)
    assert exc.value.field == "community_code"  # a town is not a community
    renhuai = Principal(subject="r", roles=frozenset({Role.COMMUNITY_CADRE}), areas=frozenset({"520382"}))
    with pytest.raises(Forbidden):
        await service.collective.record_collective_income(
            ctx=ctx(renhuai), community_code=COMMUNITY, data=income.model_copy(update={"project_id": None})
        )
    collective = await service.reports.community_collective(ctx=ctx(CITY), community_code=COMMUNITY)
    assert collective.collective_income.fen == 12 * WAN and collective.income_by_year["2025"].fen == 12 * WAN
    event = uow.published[-1]
    assert event.type == "projects.collective_income_recorded" and event.payload["source_kinds"] == [
        "central_earmarked"
    ]


async def test_a_viewer_cannot_move_money(fakes: Any) -> None:
    service, _, _ = fakes
    sid, pid = await setup_project(service, budget_wan=1000, amount_wan=100, status="under_construction")
    viewer = Principal(subject="v", roles=frozenset({Role.COMMISSION_VIEWER}), areas=frozenset({"520300"}))
    with pytest.raises(Forbidden):
        await service.ledger.disburse(ctx=ctx(viewer), project_id=pid, data=pay(sid, 1))
    assert (await service.projects.get_project(ctx=ctx(viewer), project_id=pid)).disbursed.fen == 0
