"""The projects service's money rules on the real MongoDB-protocol server, through the service
layer with a real UnitOfWork: concurrent disbursements that together would overspend (one is
refused), refusals that write nothing, reversals, and jobs counted from the spell copy."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Any

import pytest

from projects_service.jobs.models import JobLinkIn
from projects_service.ledger.models import CollectiveIncomeIn, DisbursementIn, DividendIn, LedgerEntry, ReversalIn
from projects_service.projects.models import ProjectIn, StatusIn
from projects_service.sources.models import BudgetSet, FundingSourceIn
from projects_service.wiring import Services, build_services, ensure_indexes, mongo_stores
from relocation_shared.auth import Principal, Role
from relocation_shared.clock import system_clock
from relocation_shared.errors import Conflict, DomainError, InvalidInput, NotFound
from relocation_shared.events import CATALOG
from relocation_shared.events.employment import EmploymentEnded, WorkerEmployed
from relocation_shared.ids import new_id
from relocation_shared.outbox import OUTBOX, Tx, UnitOfWork, ensure_outbox_indexes
from tests.context import ctx
from tests.fakes.projects import register_household

pytestmark = pytest.mark.integration

XISHUI = "520330"
COMMUNITY = "520330101001"
OTHER_COMMUNITY = "520330101002"
WAN = 1_000_000  # fen in 1万元

CITY = Principal(subject="city", roles=frozenset({Role.CITY_OFFICER}), areas=frozenset({"520300"}))


def path(code: str) -> list[str]:
    return [code[:2] + "0000", code[:4] + "00", code[:6], code[:9] + "000", code, f"{code}-G01", f"{code}-G01-B01"]


@pytest.fixture
async def db(mongo_client: Any) -> Any:
    name = f"it_projects_{uuid.uuid4().hex[:10]}"
    database = mongo_client[name]
    await ensure_outbox_indexes(database)
    await ensure_indexes(database)
    yield database
    await mongo_client.drop_database(name)


@pytest.fixture
def service(mongo_client: Any, db: Any) -> Services:
    return build_services(
        uow=UnitOfWork(mongo_client, db, producer="projects"), stores=mongo_stores(db), clock=system_clock
    )


async def source(service: Services, budget_wan: int, kind: str = "central_earmarked") -> str:
    s = await service.sources.register_source(
        ctx=ctx(CITY),
        data=FundingSourceIn(
            kind=kind, name="戴帽资金", area_code="520300", budgets=[{"year": 2024, "amount_fen": budget_wan * WAN}]
        ),
    )
    return s.id


async def project(
    service: Services, source_id: str, amount_wan: int, *, kind: str = "industry", status: str = "approved"
) -> str:
    p = await service.projects.approve(
        ctx=ctx(CITY),
        data=ProjectIn(
            name="食用菌种植基地",
            kind=kind,
            chain="agriculture" if kind == "industry" else None,
            community_codes=[COMMUNITY],
            allocations=[{"source_id": source_id, "year": 2024, "amount_fen": amount_wan * WAN}],
            approved_on=date(2024, 3, 1),
        ),
    )
    for step, on in (("under_construction", date(2024, 4, 1)), ("operating", date(2024, 9, 1))):
        if status == "approved" or (status == "under_construction" and step == "operating"):
            break
        await service.projects.change_status(ctx=ctx(CITY), project_id=p.id, data=StatusIn(status=step, changed_on=on))
    return p.id


def disbursement(source_id: str, amount_wan: int) -> DisbursementIn:
    return DisbursementIn(source_id=source_id, year=2024, amount_fen=amount_wan * WAN, disbursed_on=date(2024, 5, 1))


async def counts(db: Any) -> dict[str, int]:
    return {c: await db[c].count_documents({}) for c in ("ledger", OUTBOX, "projects", "households", "allocations")}


async def outbox_types(db: Any) -> list[str]:
    return [d["type"] for d in await db[OUTBOX].find({}, {"type": 1}).sort("_id", 1).to_list(None)]


async def one_refused(*disbursements: Any) -> Conflict:
    """Run the disbursements at once: exactly one of them must be refused, on its amount."""
    results = await asyncio.gather(*disbursements, return_exceptions=True)
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1, results
    assert isinstance(refused[0], Conflict) and refused[0].field == "amount_fen"
    return refused[0]


async def test_two_concurrent_disbursements_that_overspend_the_allocation_one_is_refused(service, db):
    sid = await source(service, budget_wan=1000)
    pid = await project(service, sid, amount_wan=100, status="under_construction")
    before = await outbox_types(db)

    await one_refused(
        service.ledger.disburse(ctx=ctx(CITY), project_id=pid, data=disbursement(sid, 60)),
        service.ledger.disburse(ctx=ctx(CITY), project_id=pid, data=disbursement(sid, 60)),
    )

    p = await service.projects.get_project(ctx=ctx(CITY), project_id=pid)
    assert p.disbursed.fen == 60 * WAN and p.allocations[0].remaining.fen == 40 * WAN
    assert await db.ledger.count_documents({"kind": "disbursement"}) == 1
    assert (await outbox_types(db))[len(before) :] == ["projects.funds_disbursed"]
    budget = (await service.sources.get_source(ctx=ctx(CITY), source_id=sid)).budgets[0]
    assert budget.disbursed.fen == 60 * WAN and budget.remaining.fen == 940 * WAN


async def test_two_concurrent_disbursements_that_overspend_the_year_budget_one_is_refused(service, db):
    sid = await source(service, budget_wan=160)
    # Both projects were promised 80万; the year's budget was then cut to 100万: the budget binds.
    first = await project(service, sid, amount_wan=80, status="under_construction")
    second = await project(service, sid, amount_wan=80, status="under_construction")
    await service.sources.set_budget(ctx=ctx(CITY), source_id=sid, year=2024, data=BudgetSet(amount_fen=100 * WAN))

    refused = await one_refused(
        service.ledger.disburse(ctx=ctx(CITY), project_id=first, data=disbursement(sid, 60)),
        service.ledger.disburse(ctx=ctx(CITY), project_id=second, data=disbursement(sid, 60)),
    )

    assert "预算余额" in refused.message
    budget = (await service.sources.get_source(ctx=ctx(CITY), source_id=sid)).budgets[0]
    assert budget.disbursed.fen == 60 * WAN and budget.remaining.fen == 40 * WAN
    assert await db.ledger.count_documents({}) == 1
    # What is left is still usable, to the fen, and not one fen more.
    winner = (await db.ledger.find_one({}))["project_id"]
    loser = second if winner == first else first
    entry = await service.ledger.disburse(ctx=ctx(CITY), project_id=loser, data=disbursement(sid, 40))
    assert entry.amount.fen == 40 * WAN
    one_fen = DisbursementIn(source_id=sid, year=2024, amount_fen=1, disbursed_on=date(2024, 5, 2))
    with pytest.raises(Conflict) as exc:
        await service.ledger.disburse(ctx=ctx(CITY), project_id=winner, data=one_fen)
    assert exc.value.field == "amount_fen" and "预算余额" in exc.value.message


async def test_refusals_write_nothing(service, db):
    sid = await source(service, budget_wan=1000)
    building = await project(service, sid, amount_wan=100, status="under_construction")
    operating = await project(service, sid, amount_wan=100, status="operating")
    outsider = new_id()
    await register_household(
        service.jobs,
        OTHER_COMMUNITY,
        household_id=outsider,
        kind="registered_poor",
        registered_on=date(2020, 1, 1),
        area_path=path(OTHER_COMMUNITY),
        at=system_clock(),
    )
    before = await counts(db)

    dividend = DividendIn(
        recipient="collective", community_code=COMMUNITY, amount_fen=5 * WAN, year=2024, paid_on=date(2024, 12, 20)
    )
    cases: list[tuple[Any, type[DomainError], str]] = [
        (
            service.ledger.disburse(ctx=ctx(CITY), project_id=building, data=disbursement(sid, 101)),
            Conflict,
            "amount_fen",
        ),
        (service.ledger.pay_dividend(ctx=ctx(CITY), project_id=building, data=dividend), Conflict, "status"),
        (
            service.ledger.pay_dividend(
                ctx=ctx(CITY),
                project_id=operating,
                data=DividendIn(
                    recipient="household", household_id=outsider, amount_fen=WAN, year=2024, paid_on=date(2024, 12, 20)
                ),
            ),
            InvalidInput,
            "household_id",
        ),
        (
            service.ledger.pay_dividend(
                ctx=ctx(CITY),
                project_id=operating,
                data=DividendIn(
                    recipient="household", household_id=new_id(), amount_fen=WAN, year=2024, paid_on=date(2024, 12, 20)
                ),
            ),
            NotFound,
            "household_id",
        ),
        (
            service.ledger.pay_dividend(
                ctx=ctx(CITY),
                project_id=operating,
                data=dividend.model_copy(update={"community_code": OTHER_COMMUNITY}),
            ),
            InvalidInput,
            "community_code",
        ),
        (
            service.projects.change_status(ctx=ctx(CITY), project_id=building, data=StatusIn(status="completed")),
            Conflict,
            "status",
        ),
    ]
    for call, error, field in cases:
        with pytest.raises(error) as exc:
            await call
        assert exc.value.field == field, exc.value.message
    assert await counts(db) == before
    p = await service.projects.get_project(ctx=ctx(CITY), project_id=building)
    assert p.status == "under_construction" and p.disbursed.fen == 0 and p.dividends_paid.fen == 0


async def test_a_reversal_compensates_once_and_never_edits(service, db):
    sid = await source(service, budget_wan=1000)
    pid = await project(service, sid, amount_wan=100, status="operating")
    paid = await service.ledger.disburse(ctx=ctx(CITY), project_id=pid, data=disbursement(sid, 30))
    original = await db.ledger.find_one({"_id": paid.id})

    results = await asyncio.gather(
        service.reversal.reverse(ctx=ctx(CITY), entry_id=paid.id, data=ReversalIn(reason="重复拨付")),
        service.reversal.reverse(ctx=ctx(CITY), entry_id=paid.id, data=ReversalIn(reason="重复拨付")),
        return_exceptions=True,
    )

    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], Conflict), results
    assert await db.ledger.find_one({"_id": paid.id}) == original  # the original is untouched
    reversal = next(r for r in results if isinstance(r, LedgerEntry))
    assert reversal.amount.fen == -30 * WAN and reversal.reversal_of == paid.id
    p = await service.projects.get_project(ctx=ctx(CITY), project_id=pid)
    assert p.disbursed.fen == 0 and p.allocations[0].remaining.fen == 100 * WAN
    summary = await service.reports.summary(ctx=ctx(CITY), area=XISHUI)
    assert summary.total.disbursed.fen == 0
    assert (await outbox_types(db))[-1] == "projects.payment_reversed"
    with pytest.raises(Conflict):
        await service.reversal.reverse(ctx=ctx(CITY), entry_id=reversal.id, data=ReversalIn(reason="冲正的冲正"))

    # A collective-income entry moves no balance: the reversal's own id keeps it to one.
    income = await service.collective.record_collective_income(
        ctx=ctx(CITY),
        community_code=COMMUNITY,
        data=CollectiveIncomeIn(amount_fen=8 * WAN, year=2024, received_on=date(2024, 12, 25), project_id=pid),
    )
    results = await asyncio.gather(
        service.reversal.reverse(ctx=ctx(CITY), entry_id=income.id, data=ReversalIn(reason="误记")),
        service.reversal.reverse(ctx=ctx(CITY), entry_id=income.id, data=ReversalIn(reason="误记")),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert await db.ledger.count_documents({"reversal_of": income.id}) == 1
    collective = await service.reports.community_collective(ctx=ctx(CITY), community_code=COMMUNITY)
    assert collective.collective_income.fen == 0 and collective.income_by_year["2024"].fen == 0


async def test_jobs_count_open_linked_spells_and_an_ended_spell_stops_counting(service, db):
    sid = await source(service, budget_wan=1000)
    pid = await project(service, sid, amount_wan=100, status="operating")
    spells = {}

    async def employ(tx: Tx, code: str) -> str:
        p = WorkerEmployed(
            spell_id=new_id(),
            resident_id=new_id(),
            household_id=new_id(),
            employment_type="local",
            organised_export=False,
            employer="贵州骏华实业有限公司",
            monthly_wage=3500,
            started_on=date(2024, 10, 1),
        )
        env = CATALOG.envelope(
            p, producer="employment", area_path=path(code), aggregate_id=p.household_id, occurred_at=system_clock()
        )
        await service.jobs.on_worker_employed(tx, env, p)
        spells[p.spell_id] = (env, p)
        return p.spell_id

    inside = [await service.jobs.uow.run(lambda tx: employ(tx, COMMUNITY)) for _ in range(3)]
    outside = await service.jobs.uow.run(lambda tx: employ(tx, OTHER_COMMUNITY))

    for spell_id in inside:
        await service.jobs.link_job(ctx=ctx(CITY), project_id=pid, data=JobLinkIn(spell_id=spell_id))
    with pytest.raises(InvalidInput) as exc:
        await service.jobs.link_job(ctx=ctx(CITY), project_id=pid, data=JobLinkIn(spell_id=outside))
    assert exc.value.field == "spell_id"
    with pytest.raises(Conflict):
        await service.jobs.link_job(ctx=ctx(CITY), project_id=pid, data=JobLinkIn(spell_id=inside[0]))
    with pytest.raises(NotFound):
        await service.jobs.link_job(ctx=ctx(CITY), project_id=pid, data=JobLinkIn(spell_id=new_id()))
    assert (await service.projects.get_project(ctx=ctx(CITY), project_id=pid)).jobs == 3

    env, employed = spells[inside[0]]
    ended = EmploymentEnded(
        spell_id=employed.spell_id,
        resident_id=employed.resident_id,
        household_id=employed.household_id,
        employment_type=employed.employment_type,
        organised_export=False,
        monthly_wage=3500,
        started_on=employed.started_on,
        ended_on=date(2025, 1, 31),
        reason="合同到期",
    )
    end_env = CATALOG.envelope(
        ended,
        producer="employment",
        area_path=env.area_path,
        aggregate_id=employed.household_id,
        occurred_at=system_clock(),
    )
    await service.jobs.uow.run(lambda tx: service.jobs.on_employment_ended(tx, end_env, ended))

    assert (await service.projects.get_project(ctx=ctx(CITY), project_id=pid)).jobs == 2
    assert (await service.reports.summary(ctx=ctx(CITY), area="520300")).total.jobs == 2
    unlinked = await db[OUTBOX].find_one({"type": "projects.job_unlinked"})
    assert unlinked is not None and '"reason":"employment_ended"' in unlinked["value"]
    with pytest.raises(Conflict):  # an ended spell cannot be linked again
        await service.jobs.link_job(ctx=ctx(CITY), project_id=pid, data=JobLinkIn(spell_id=inside[0]))
