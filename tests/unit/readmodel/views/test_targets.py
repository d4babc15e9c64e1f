"""Targets by area code, then level, then default, and the gap and met of each indicator."""

from __future__ import annotations

from readmodel_service.views.domain import Targets, evaluate, target_for
from tests.clock import TODAY

TARGETS: Targets = {
    "employment_rate": {"default": 95.0, "520330": 98.0},
    "zero_employment_households": {"default": 0},
}


def test_targets_by_area_then_level_then_default_and_the_gap() -> None:
    assert target_for(TARGETS, "employment_rate", code="520330", level="county") == 98.0
    assert target_for(TARGETS, "employment_rate", code="520382", level="county") == 95.0
    assert target_for(TARGETS, "households", code="520382", level="county") is None
    values = {
        v.key: v
        for v in evaluate(
            {"employed": 97, "labour_force": 100, "zero_employment_households": 2},
            code="520330",
            level="county",
            targets=TARGETS,
            on=TODAY,
        )
    }
    assert values["employment_rate"].gap == -1.0 and values["employment_rate"].met is False
    assert values["zero_employment_households"].gap == 2 and values["zero_employment_households"].met is False
    ok = {
        v.key: v
        for v in evaluate(
            {"employed": 99, "labour_force": 100}, code="520382", level="county", targets=TARGETS, on=TODAY
        )
    }
    assert ok["employment_rate"].met is True and ok["employment_rate"].gap == 4.0
