"""The household employment aggregate (零就业家庭): the alert is raised the moment a household
with labour force has nobody employed, and cleared the moment that stops being true."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from employment_service.domain import HouseholdLedger
from relocation_shared.events.employment import HouseholdZeroEmploymentCleared, HouseholdZeroEmploymentRaised

T0 = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
T1, T2, T3 = T0 + timedelta(days=3), T0 + timedelta(days=40), T0 + timedelta(days=90)


def ledger(labour: int = 0, employed: int = 0, zero_since: datetime | None = None) -> HouseholdLedger:
    return HouseholdLedger(household_id="h-1", labour_count=labour, employed_count=employed, zero_since=zero_since)


def test_registering_a_labour_member_raises_the_alert() -> None:
    h = ledger()
    assert not h.is_zero
    event = h.adjust(labour=+1, cause="resident_registered", now=T0)
    assert isinstance(event, HouseholdZeroEmploymentRaised)
    assert event == HouseholdZeroEmploymentRaised(
        household_id="h-1", labour_count=1, since=T0, cause="resident_registered"
    )
    assert (h.labour_count, h.employed_count, h.zero_since, h.is_zero) == (1, 0, T0, True)


def test_a_second_labour_member_while_zero_raises_nothing_new() -> None:
    h = ledger()
    h.adjust(labour=+1, cause="resident_registered", now=T0)
    assert h.adjust(labour=+1, cause="resident_registered", now=T1) is None
    assert h.zero_since == T0 and h.labour_count == 2


def test_employing_someone_clears_it_keeping_when_it_started() -> None:
    h = ledger()
    h.adjust(labour=+1, cause="resident_registered", now=T0)
    event = h.adjust(employed=+1, cause="worker_employed", now=T1)
    assert event == HouseholdZeroEmploymentCleared(
        household_id="h-1", employed_count=1, labour_count=1, zero_since=T0, cleared_at=T1, cause="worker_employed"
    )
    assert h.zero_since is None and not h.is_zero


def test_a_second_job_raises_nothing() -> None:
    h = ledger(labour=2, employed=1)
    assert h.adjust(employed=+1, cause="worker_employed", now=T1) is None
    assert (h.labour_count, h.employed_count) == (2, 2) and h.events == []


def test_ending_one_of_two_jobs_raises_nothing() -> None:
    h = ledger(labour=2, employed=2)
    assert h.adjust(employed=-1, cause="employment_ended", now=T1) is None
    assert h.employed_count == 1 and h.zero_since is None


def test_ending_the_last_job_raises_the_alert() -> None:
    h = ledger(labour=2, employed=1)
    event = h.adjust(employed=-1, cause="employment_ended", now=T2)
    assert event == HouseholdZeroEmploymentRaised(
        household_id="h-1", labour_count=2, since=T2, cause="employment_ended"
    )
    assert h.zero_since == T2


def test_losing_the_only_unemployed_labour_member_clears_it_for_want_of_labour() -> None:
    h = ledger()
    h.adjust(labour=+1, cause="resident_registered", now=T0)
    event = h.adjust(labour=-1, cause="labour_capacity_changed", now=T1)
    assert isinstance(event, HouseholdZeroEmploymentCleared)
    assert (event.labour_count, event.employed_count, event.zero_since, event.cleared_at) == (0, 0, T0, T1)
    assert h.zero_since is None and not h.is_zero


def test_a_household_without_labour_is_never_zero() -> None:
    h = ledger()
    assert h.adjust(labour=0, cause="nothing", now=T0) is None
    assert not h.is_zero and h.zero_since is None


@pytest.mark.parametrize(
    ("start", "change"),
    [
        ((0, 0), {"labour": -1}),  # negative labour
        ((1, 0), {"employed": -1}),  # negative employed
        ((1, 1), {"employed": +1}),  # more employed than labour
        ((1, 1), {"labour": -1}),  # labour below employed
    ],
)
def test_impossible_counts_raise_and_change_nothing(start: tuple[int, int], change: dict[str, int]) -> None:
    h = ledger(*start, zero_since=None)
    with pytest.raises(ValueError, match="impossible"):
        h.adjust(cause="x", now=T0, **change)
    assert (h.labour_count, h.employed_count) == start and h.events == [] and h.zero_since is None


def test_events_accumulate_in_order() -> None:
    h = ledger()
    h.adjust(labour=+1, cause="resident_registered", now=T0)  # raised
    h.adjust(employed=+1, cause="worker_employed", now=T1)  # cleared
    h.adjust(labour=+1, cause="resident_registered", now=T1)  # nothing: one of two works
    h.adjust(employed=-1, cause="employment_ended", now=T2)  # raised
    h.adjust(labour=-2, cause="resident_moved_out", now=T3)  # cleared: no labour left
    assert [type(e) for e in h.events] == [
        HouseholdZeroEmploymentRaised,
        HouseholdZeroEmploymentCleared,
        HouseholdZeroEmploymentRaised,
        HouseholdZeroEmploymentCleared,
    ]
    assert [e.since for e in h.events if isinstance(e, HouseholdZeroEmploymentRaised)] == [T0, T2]
    assert [e.zero_since for e in h.events if isinstance(e, HouseholdZeroEmploymentCleared)] == [T0, T2]
    assert h.events[-1].labour_count == 0
