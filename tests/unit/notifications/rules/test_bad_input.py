"""Bad input to the rules: a condition value MongoDB cannot store (an integer beyond 8 bytes, a
non-finite float) is refused naming the field instead of failing the write with a 500; a rule's
name, title and template may not carry an ID or phone number (the title is copied as is into
inbox items and SMS text), and a compiled title is scrubbed all the same."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from notifications_service.rules.domain import compile_rule, rule_input
from notifications_service.rules.models import RuleUpdate
from relocation_shared.auth import Principal, Role
from relocation_shared.errors import InvalidInput
from tests.clock import frozen
from tests.context import ctx
from tests.unit.notifications.rules.support import refused, rule
from tests.unit.notifications.support import make_service

RAISED = "employment.household_zero_employment_raised"
OFFICER = Principal(subject="city-1", roles=frozenset({Role.CITY_OFFICER}), areas=frozenset({"520300"}))
PHONE, NATIONAL_ID = "13912345678", "52033019850315123X"


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        ({"field": "labour_count", "op": "gt", "value": 2**70}, "conditions.0.value"),
        ({"field": "labour_count", "op": "eq", "value": 2**63}, "conditions.0.value"),
        ({"field": "labour_count", "op": "lt", "value": -(2**63) - 1}, "conditions.0.value"),
        ({"field": "labour_count", "op": "in", "value": [1, 2**64]}, "conditions.0.value.1"),
        ({"field": "labour_count", "op": "gte", "value": float("inf")}, "conditions.0.value"),
        ({"field": "labour_count", "op": "eq", "value": float("nan")}, "conditions.0.value"),
    ],
)
def test_values_outside_what_mongodb_stores_are_refused_naming_the_field(condition: dict[str, Any], field: str) -> None:
    err = refused(rule(RAISED, conditions=[condition]))
    assert err.field == field and ("整数范围" in err.message or "有限" in err.message)


def test_the_64_bit_bounds_themselves_are_accepted() -> None:
    for value in (2**63 - 1, -(2**63)):
        compiled = compile_rule(rule(RAISED, conditions=[{"field": "labour_count", "op": "ne", "value": value}]))
        assert compiled.conditions[0].value == value


async def test_an_update_with_a_huge_integer_is_refused_and_the_rule_stays_as_it_was() -> None:
    service, repo, _ = await make_service(frozen())
    rule_id = "default-zero-employment-raised"
    before = repo.data["rules"][rule_id]["version"]
    body = rule(RAISED, conditions=[{"field": "labour_count", "op": "gt", "value": 2**70}]).model_dump()
    with pytest.raises(InvalidInput) as err:
        await service.rules.update_rule(ctx=ctx(OFFICER), rule_id=rule_id, data=RuleUpdate(**body))
    assert err.value.field == "conditions.0.value"
    assert repo.data["rules"][rule_id]["version"] == before


@pytest.mark.parametrize("field", ["name", "title", "template"])
@pytest.mark.parametrize("number", [PHONE, NATIONAL_ID, "139 1234 5678"])
def test_ids_and_phone_numbers_in_a_rule_s_texts_are_refused_naming_the_field(field: str, number: str) -> None:
    body = rule(RAISED).model_dump() | {field: f"请联系{number}"}
    with pytest.raises(ValidationError) as err:
        RuleUpdate.model_validate(body)
    (error,) = err.value.errors()
    assert error["loc"] == (field,) and "身份证号码或手机号码" in error["msg"]


def test_a_stored_title_with_a_number_is_scrubbed_when_compiled() -> None:
    doc = rule(RAISED).model_dump(mode="json") | {"_id": "r-old", "version": 3, "title": f"联系{PHONE}"}
    compiled = compile_rule(rule_input(doc), rule_id="r-old", version=3)
    assert PHONE not in compiled.title and compiled.title == "联系139****5678"
    assert PHONE not in rule_input(doc | {"template": f"电话{PHONE}"}).template
