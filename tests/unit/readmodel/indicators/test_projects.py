"""The read model's projects indicators: money in 万元 by source, status and chain, and that
compensating events (reversal, cancellation) take back exactly what the original added."""

from __future__ import annotations

from datetime import date
from typing import Any

from readmodel_service.indicators import INDICATORS, rounded
from relocation_shared.events.projects import (
    DividendPaid,
    FundsDisbursed,
    JobLinked,
    PaymentReversed,
    ProjectApproved,
    ProjectStatusChanged,
    SourceAmount,
)
from tests.unit.readmodel.helpers import COUNTY_PATH, PATH, fold, values


def approved(pid: str, *, central: int, city: int) -> ProjectApproved:
    allocations = [
        SourceAmount(source_id="s-central", source_kind="central_earmarked", year=2025, amount_fen=central),
        SourceAmount(source_id="s-city", source_kind="city_special", year=2025, amount_fen=city),
    ]
    return ProjectApproved(
        project_id=pid,
        name="食用菌基地",
        kind="industry",
        chain="agriculture",
        community_codes=[PATH[4]],
        county_code=PATH[2],
        provincial_demonstration=True,
        approved_on=date(2025, 3, 1),
        allocations=allocations,
        allocated_fen=central + city,
        source_kinds=["central_earmarked", "city_special"],
    )


def status_changed(to_status: str, **extra: Any) -> ProjectStatusChanged:
    """Project p1 (approved above) moving on from approved, on 2025-05-01."""
    return ProjectStatusChanged(
        project_id="p1",
        kind="industry",
        chain="agriculture",
        source_kinds=["central_earmarked", "city_special"],
        provincial_demonstration=True,
        from_status="approved",
        to_status=to_status,
        changed_on=date(2025, 5, 1),
        **extra,
    )


def test_projects_money_in_wan_yuan_by_source_status_and_chain() -> None:
    disbursed = FundsDisbursed(
        entry_id="e1",
        project_id="p1",
        kind="industry",
        chain="agriculture",
        source_id="s-central",
        source_kind="central_earmarked",
        year=2025,
        amount_fen=150_000_000,  # 150万元
        disbursed_on=date(2025, 4, 1),
        allocation_remaining_fen=50_000_000,
        budget_remaining_fen=0,
    )
    status = status_changed("operating")
    dividend = DividendPaid(
        entry_id="e2",
        project_id="p1",
        kind="industry",
        chain="agriculture",
        source_kinds=["central_earmarked"],
        recipient="household",
        community_code=PATH[4],
        household_id="h1",
        amount_fen=123_456,
        year=2025,
        paid_on=date(2025, 6, 1),
        households_benefiting_delta=1,
    )
    job = JobLinked(
        project_id="p1",
        kind="industry",
        chain="agriculture",
        source_kinds=["central_earmarked"],
        spell_id="s1",
        resident_id="r1",
        household_id="h1",
        community_code=PATH[4],
        jobs=1,
    )
    plan = fold(approved("p1", central=200_000_000, city=64_000_000), disbursed, status, dividend, job, path=PATH[:5])
    for code in PATH[:5]:
        c = dict(plan.views[code])
        v = values(c)
        assert v["projects"] == 1 and v["projects:status:operating"] == 1 and v["projects:status:approved"] == 0
        assert v["projects:chain:agriculture"] == 1 and v["projects_demonstration"] == 1
        assert v["allocated"] == 264.0 and v["allocated:central_earmarked"] == 200.0
        assert v["allocated:city_special"] == 64.0
        assert v["disbursed"] == 150.0 and v["disbursed:central_earmarked"] == 150.0
        assert v["disbursement_rate"] == 56.82  # 150 / 264
        assert v["dividends"] == 0.12 and v["households_benefiting"] == 1 and v["project_jobs"] == 1

    reversal = PaymentReversed(
        entry_id="e3",
        reverses="e2",
        payment_kind="dividend",
        amount_fen=123_456,
        project_id="p1",
        recipient="household",
        community_code=PATH[4],
        household_id="h1",
        source_kinds=["central_earmarked"],
        reason="重复发放",
        reversed_on=date(2025, 6, 2),
        households_benefiting_delta=-1,
    )
    after = dict(
        fold(approved("p1", central=200_000_000, city=64_000_000), dividend, reversal, path=PATH[:5]).views["520330"]
    )
    assert after["dividends_fen"] == 0 and after["dividends_fen:household"] == 0
    assert after["households_benefiting"] == 0


def test_a_cancelled_project_gives_back_its_undisbursed_allocation() -> None:
    cancelled = status_changed(
        "cancelled",
        reason="选址调整",
        released=[SourceAmount(source_id="s-city", source_kind="city_special", year=2025, amount_fen=64_000_000)],
    )
    c = dict(fold(approved("p1", central=200_000_000, city=64_000_000), cancelled, path=COUNTY_PATH).views["520330"])
    assert c["allocated_fen"] == 200_000_000 and c["allocated_fen:city_special"] == 0
    assert c["projects:status:cancelled"] == 1 and c["projects:status:approved"] == 0


def test_amount_indicators_are_labelled_for_officials() -> None:
    assert INDICATORS["request_completion_rate"].label == "民情实事办结率"
    assert INDICATORS["mediation_success_rate"].label == "调解成功率"
    assert INDICATORS["allocated"].unit == "万元"
    assert rounded(INDICATORS["dividends"].compute({"dividends_fen": 14_491_700_00}), 2) == 1449.17  # the seed's 分红
