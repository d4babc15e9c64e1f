"""The read model's indicator arithmetic (registry and employment), rounding as officials read
it, and that every fold is for an event of the catalog."""

from __future__ import annotations

import pytest

from readmodel_service.indicators import FOLDS, INDICATORS
from relocation_shared.events import CATALOG
from tests.unit.readmodel.helpers import value


def test_the_seed_figures_round_as_officials_read_them() -> None:
    # 遵义 2025: 98,600 employed of 101,263 labour force in 44,018 households with labour
    counters = {"employed": 98_600, "labour_force": 101_263, "households_with_labour": 44_018}
    assert value("employment_rate", counters) == 97.37
    assert value("employed_per_household", counters) == 2.24
    # 2020: 2.12 per household, 92 % (rounding half up, not to even)
    assert value("employed_per_household", {"employed": 2125, "households_with_labour": 1000}) == 2.13
    assert value("employment_rate", {"employed": 92_125, "labour_force": 100_000}) == 92.13
    assert value("employment_rate", {"employed": 1, "labour_force": 8}) == 12.5


def test_ratios_without_a_denominator_are_absent_not_zero() -> None:
    assert value("employment_rate", {"employed": 0, "labour_force": 0}) is None
    assert value("average_monthly_wage", {}) is None
    assert value("average_monthly_wage", {"wage_sum": 10_501, "employed": 3}) == 3500


def test_away_and_local_add_up_to_employed() -> None:
    keys = [k for k in INDICATORS if k.startswith("employed:")]
    assert len(keys) == 6
    assert INDICATORS["employed:out_of_province"].label == "省外务工"
    assert INDICATORS["employment_rate"].label == "人均就业落实率"


@pytest.mark.parametrize("event_type", sorted(FOLDS))
def test_every_fold_is_for_a_catalog_event(event_type: str) -> None:
    assert event_type in CATALOG.types
