"""Conditions: which events a rule matches, and which conditions are refused (naming the field)."""

from __future__ import annotations

from typing import Any

import pytest

from notifications_service.rules.domain import compile_rule
from tests.unit.notifications.events import dividend, overdue
from tests.unit.notifications.rules.support import (
    COMMUNITY_PATH,
    envelope,
    raised,
    refused,
    rule,
)

# --- conditions ---------------------------------------------------------------------------------


def test_a_rule_without_conditions_matches_every_event_of_its_type_only() -> None:
    r = compile_rule(rule("employment.household_zero_employment_raised"))
    assert r.matches(envelope(raised()), raised())
    other = overdue("grid")
    assert not r.matches(envelope(other), other)


@pytest.mark.parametrize(
    ("condition", "labour", "expected"),
    [
        ({"field": "labour_count", "op": "gte", "value": 3}, 2, False),
        ({"field": "labour_count", "op": "gte", "value": 3}, 3, True),
        ({"field": "labour_count", "op": "gt", "value": 1}, 2, True),
        ({"field": "labour_count", "op": "lt", "value": 2}, 2, False),
        ({"field": "labour_count", "op": "lte", "value": 2}, 2, True),
        ({"field": "labour_count", "op": "eq", "value": "2"}, 2, True),  # coerced to the field's type
        ({"field": "labour_count", "op": "ne", "value": 2}, 2, False),
        ({"field": "labour_count", "op": "in", "value": [1, 2]}, 2, True),
        ({"field": "labour_count", "op": "not_in", "value": [1, 2]}, 2, False),
        ({"field": "cause", "op": "eq", "value": "employment_ended"}, 2, True),
        ({"field": "area_path", "op": "contains", "value": "520330"}, 2, True),
        ({"field": "area_path", "op": "contains", "value": "520382"}, 2, False),
        ({"field": "since", "op": "gte", "value": "2025-10-30T00:00:00+08:00"}, 2, True),
        ({"field": "since", "op": "lt", "value": "2025-10-30T00:00:00Z"}, 2, False),
    ],
)
def test_conditions_on_payload_fields(condition: dict[str, Any], labour: int, expected: bool) -> None:
    r = compile_rule(rule("employment.household_zero_employment_raised", conditions=[condition]))
    p = raised(labour)
    assert r.matches(envelope(p), p) is expected


def test_every_condition_must_hold() -> None:
    r = compile_rule(
        rule(
            "governance.request_overdue",
            conditions=[
                {"field": "level", "op": "eq", "value": "grid"},
                {"field": "urgency", "op": "in", "value": ["urgent", "emergency"]},
            ],
        )
    )
    assert r.matches(envelope(overdue("grid")), overdue("grid"))
    assert not r.matches(envelope(overdue("grid", urgency="general")), overdue("grid", urgency="general"))
    assert not r.matches(envelope(overdue("building")), overdue("building"))


def test_optional_fields_exists_and_lists_contains() -> None:
    exists = compile_rule(
        rule("governance.request_overdue", conditions=[{"field": "department", "op": "exists", "value": True}])
    )
    p = overdue("county_department", department="housing")
    assert exists.matches(envelope(p), p)
    assert not exists.matches(envelope(overdue("grid")), overdue("grid"))
    is_none = compile_rule(
        rule("governance.request_overdue", conditions=[{"field": "department", "op": "eq", "value": None}])
    )
    assert is_none.matches(envelope(overdue("grid")), overdue("grid"))

    paid = dividend()
    central = compile_rule(
        rule(
            "projects.dividend_paid",
            conditions=[{"field": "source_kinds", "op": "contains", "value": "central_earmarked"}],
        )
    )
    city = compile_rule(
        rule(
            "projects.dividend_paid", conditions=[{"field": "source_kinds", "op": "contains", "value": "city_special"}]
        )
    )
    env = envelope(paid, COMMUNITY_PATH)
    assert central.matches(env, paid) and not city.matches(env, paid)


@pytest.mark.parametrize(
    ("condition", "field", "says"),
    [
        ({"field": "household", "op": "eq", "value": 1}, "conditions.0.field", "没有字段 household"),
        ({"field": "cause", "op": "gt", "value": "a"}, "conditions.0.op", "不能比较大小"),
        ({"field": "labour_count", "op": "eq", "value": "two"}, "conditions.0.value", "类型不符"),
        ({"field": "labour_count", "op": "in", "value": 2}, "conditions.0.value", "非空列表"),
        ({"field": "labour_count", "op": "contains", "value": 2}, "conditions.0.op", "不是列表"),
        ({"field": "since", "op": "gt", "value": "2025-10-30T00:00:00"}, "conditions.0.value", "时区"),
        ({"field": "area_path", "op": "eq", "value": "520330"}, "conditions.0.op", "area_path"),
        ({"field": "labour_count", "op": "exists", "value": "yes"}, "conditions.0.value", "true 或 false"),
    ],
)
def test_bad_conditions_are_refused_naming_the_field(condition: dict[str, Any], field: str, says: str) -> None:
    err = refused(rule("employment.household_zero_employment_raised", conditions=[condition]))
    assert err.field == field and says in err.message


def test_an_enum_condition_value_outside_the_vocabulary_is_refused() -> None:
    err = refused(rule("governance.request_overdue", conditions=[{"field": "level", "op": "eq", "value": "village"}]))
    assert err.field == "conditions.0.value"
