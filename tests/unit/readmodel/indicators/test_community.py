"""The read model's community-work indicators: what each event moves, the ratios as officials
read them, and that a reopened request takes back exactly what its closure added."""

from __future__ import annotations

from datetime import date, timedelta

from readmodel_service.config import DEFAULT_TARGETS
from readmodel_service.views.domain import evaluate
from relocation_shared.events.community import PointsAwarded, PointsRedeemed, VisitRecorded
from relocation_shared.events.disputes import DisputeMediated, DisputeRegistered
from relocation_shared.events.requests import (
    RequestOverdue,
    RequestRated,
    RequestReopened,
    RequestResolved,
    RequestSubmitted,
)
from tests.clock import TODAY
from tests.unit.readmodel.helpers import AT, PATH, fold, values


def submitted(rid: str) -> RequestSubmitted:
    return RequestSubmitted(
        request_id=rid,
        category="employment",
        urgency="general",
        source="resident",
        community_code=PATH[4],
        grid_code=PATH[5],
        building_code=PATH[6],
        level="building",
        submitted_at=AT,
        dispatch_due_at=AT + timedelta(hours=4),
    )


def resolved(rid: str, *, low: bool, overdue: bool = False) -> RequestResolved:
    return RequestResolved(
        request_id=rid,
        category="employment",
        resolution_level="grid" if low else "community",
        resolved_low_level=low,
        resolved_at=AT,
        minutes_to_resolve=120,
        was_overdue=overdue,
        reopen_count=0,
        rate_due_at=AT + timedelta(days=3),
    )


def rated(rid: str, score: int, minutes: int, *, low: bool, overdue: bool = False) -> RequestRated:
    return RequestRated(
        request_id=rid,
        category="employment",
        score=score,
        party_org_id=None,
        resolution_level="grid" if low else "community",
        resolved_low_level=low,
        closed_at=AT,
        minutes_to_close=minutes,
        hours_to_close=round(minutes / 60, 2),
        was_overdue=overdue,
        reopen_count=0,
    )


def overdue(rid: str, state: str, *, first: bool = True) -> RequestOverdue:
    return RequestOverdue(
        request_id=rid,
        category="employment",
        urgency="general",
        state=state,
        step="resolve",
        level="grid",
        deadline_at=AT,
        first_overdue=first,
        overdue_count=1 if first else 2,
    )


def test_requests_completion_rate_low_level_share_rating_and_hours() -> None:
    plan = fold(
        submitted("q1"),
        submitted("q2"),
        submitted("q3"),
        resolved("q1", low=True),
        rated("q1", 5, 90, low=True),
        resolved("q2", low=False),
        rated("q2", 4, 210, low=False),
    )
    c = dict(plan.views["520330"])
    v = values(c)
    assert (v["requests_submitted"], v["requests_open"], v["requests_resolved"], v["requests_closed"]) == (3, 1, 2, 2)
    assert v["request_completion_rate"] == 66.67  # 2 of 3, half up
    assert v["resolved_low_level_share"] == 50.0
    assert v["average_rating"] == 4.5
    assert v["mean_hours_to_close"] == 2.5  # (90 + 210) / 2 minutes
    # the same figures in every area of the path: a building's change is its county's change
    assert all(plan.views[code]["requests_submitted"] == 3 for code in PATH)


def test_a_reopened_request_takes_back_its_rating_and_closure() -> None:
    reopen = RequestReopened(
        request_id="q1",
        category="employment",
        reopen_count=1,
        previous_score=2,
        previous_resolution_level="grid",
        previous_resolved_low_level=True,
        previous_minutes_to_close=300,
        previous_was_overdue=True,
        level="community",
        dispatch_due_at=AT,
    )
    plan = fold(
        submitted("q1"),
        overdue("q1", "accepted"),
        resolved("q1", low=True, overdue=True),
        rated("q1", 2, 300, low=True, overdue=True),
        reopen,
    )
    c = dict(plan.views["520330"])
    assert c["requests_open"] == 1 and c["requests_resolved"] == 0 and c["requests_closed"] == 0
    assert c["rating_sum"] == 0 and c["close_minutes_sum"] == 0 and c["requests_resolved_low"] == 0
    assert c["requests_overdue_open"] == 1 and c["requests_overdue"] == 1
    v = values(c)
    assert v["average_rating"] is None and v["request_completion_rate"] == 0.0


def test_overdue_counts_once_and_only_while_open() -> None:
    plan = fold(
        submitted("q1"),
        overdue("q1", "dispatched"),
        overdue("q1", "accepted", first=False),  # a second missed deadline: still one request
        submitted("q2"),
        resolved("q2", low=True),
        overdue("q2", "resolved"),  # missed its rating deadline: overdue, but no longer open
    )
    c = dict(plan.views["520330"])
    assert c["requests_overdue"] == 2 and c["requests_overdue_open"] == 1
    c2 = dict(fold(submitted("q1"), overdue("q1", "accepted"), resolved("q1", low=False, overdue=True)).views["520330"])
    assert c2.get("requests_overdue_open", 0) == 0 and c2["requests_overdue"] == 1
    evaluated = {v.key: v for v in evaluate(c, code="520330", level="county", targets=DEFAULT_TARGETS, on=TODAY)}
    assert evaluated["requests_overdue_open"].met is False and evaluated["requests_overdue_open"].gap == 1


def test_mediation_success_rate_visits_this_year_and_points() -> None:
    this_year = TODAY
    registered = [
        DisputeRegistered(
            dispute_id=f"d{i}",
            kind="neighbourhood",
            community_code=PATH[4],
            parties_count=2,
            mediator_name_masked="张*",
            registered_at=AT,
            due_at=AT + timedelta(days=15),
        )
        for i in range(3)
    ]
    mediated = [
        DisputeMediated(
            dispute_id=f"d{i}",
            kind="neighbourhood",
            outcome="mediated_successfully" if ok else "failed",
            successful=ok,
            sessions=1,
            concluded_at=AT,
            days_to_outcome=3,
            on_time=True,
        )
        for i, ok in enumerate([True, False])
    ]
    visits = [
        VisitRecorded(
            visit_id=f"v{i}",
            household_id="h1",
            service="policy",
            visited_on=day,
            visitor_subject="grid-1",
            visitor_role="grid_worker",
            visitor_name_masked="李*",
        )
        for i, day in enumerate([this_year, this_year, date(this_year.year - 1, 12, 31)])
    ]
    points = [
        PointsAwarded(
            household_id="h1", entry_id="p1", category="volunteer", points=30, balance_after=30, awarded_on=AT.date()
        ),
        PointsRedeemed(
            household_id="h1",
            entry_id="p2",
            goods="洗衣粉",
            quantity=1,
            points=10,
            balance_after=20,
            redeemed_on=AT.date(),
        ),
    ]
    c = dict(fold(*registered, *mediated, *visits, *points).views["520330"])
    v = {x.key: x for x in evaluate(c, code="520330", level="county", targets=DEFAULT_TARGETS, on=TODAY)}
    assert v["disputes_registered"].value == 3 and v["disputes_pending"].value == 1
    assert v["mediation_success_rate"].value == 50.0
    assert v["mediation_success_rate"].target == 98.0 and v["mediation_success_rate"].met is False
    assert v["visits_this_year"].value == 2 and v["visits"].value == 3
    assert v["visits_this_year"].target == 500 and v["visits_this_year"].gap == -498
    assert (v["points_awarded"].value, v["points_redeemed"].value) == (30, 10)
    # the yearly visits target is per county: a community has none
    community = {x.key: x for x in evaluate(c, code=PATH[4], level="community", targets=DEFAULT_TARGETS, on=TODAY)}
    assert community["visits_this_year"].target is None
