"""Templates: which fields count as personal data, placeholders, rendering with masking."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notifications_service.rules.defaults import default_rules
from notifications_service.rules.domain import compile_rule
from notifications_service.rules.templates import format_value, is_personal, placeholders, render, template_fields
from relocation_shared.events import Envelope
from relocation_shared.events.disputes import DisputeMediated
from relocation_shared.events.employment import EmploymentEnded
from relocation_shared.events.governance import HouseholdRegistered
from relocation_shared.events.requests import RequestDispatched
from tests.unit.notifications.events import dispatched, dividend
from tests.unit.notifications.rules.support import (
    BUILDING_PATH,
    COMMUNITY_PATH,
    NAMES,
    envelope,
    raised,
    refused,
    rule,
)

# --- templates and masking -----------------------------------------------------------------------


def test_personal_fields() -> None:
    fields = [
        "name",
        "name_masked",
        "national_id_masked",
        "phone",
        "room",
        "birth_year",
        "assignee_subject",
        "category",
    ]
    assert [f for f in fields if is_personal(f, fields)] == ["name", "phone", "room", "birth_year", "assignee_subject"]
    assert is_personal("mediator", ["mediator", "mediator_masked"])
    assert not is_personal("household_id") and not is_personal("amount_fen")


@pytest.mark.parametrize(
    ("event_type", "field"),
    [
        ("governance.household_registered", "room"),
        ("governance.request_dispatched", "assignee_subject"),
        ("governance.visit_recorded", "visitor_subject"),
        ("governance.resident_registered", "birth_year"),
    ],
)
def test_templates_may_not_name_personal_fields(event_type: str, field: str) -> None:
    err = refused(rule(event_type, template=f"内容 {{{field}}}"))
    assert err.field == "template" and "个人信息" in err.message and field in err.message


def test_templates_may_name_masked_and_plain_fields() -> None:
    compile_rule(rule("governance.resident_registered", template="{name_masked}({national_id_masked}){sex}"))
    assert "assignee_name_masked" in template_fields(RequestDispatched)
    assert "assignee_subject" not in template_fields(RequestDispatched)
    assert "room" not in template_fields(HouseholdRegistered)


def test_unknown_template_fields_and_bad_braces_are_refused() -> None:
    err = refused(rule("employment.household_zero_employment_raised", template="{household_name}户"))
    assert err.field == "template" and "household_name" in err.message and "household_id" in err.message
    assert refused(rule("employment.household_zero_employment_raised", template="{household_id")).field == "template"
    assert refused(rule("employment.household_zero_employment_raised", template="a } b")).field == "template"
    assert refused(rule("employment.household_zero_employment_raised", template="{Bad Name}")).field == "template"


def test_placeholders_and_literal_braces() -> None:
    assert placeholders("{{字面}} {a} {b_c}") == ["a", "b_c"]
    assert render("{{x}} {a}", {"a": "1"}) == "{x} 1"


def test_the_zero_employment_text_reads_as_officers_write_it() -> None:
    r = compile_rule(dict(default_rules())["default-zero-employment-raised"])
    text = r.render(envelope(raised()), raised(), NAMES)
    assert text == "零就业家庭预警:易居社区第一网格3栋一户(户编号hh-1)出现零就业,劳动力2人,请及时跟进帮扶"


def test_values_are_formatted_for_people() -> None:
    dividend_rule = compile_rule(dict(default_rules())["default-dividend-paid"])
    d = dividend(chain=None)
    text = dividend_rule.render(envelope(d, COMMUNITY_PATH), d, NAMES)
    assert "123,456.78元" in text and "社区集体" in text and "2025-10-01" in text and "易居社区" in text

    dispatched_rule = compile_rule(dict(default_rules())["default-request-dispatched"])
    p = dispatched(
        request_id="rq-9",
        category="employment",
        assignee_staff_id="stf-1",
        assignee_subject="u-grid",
        accept_due_at=datetime(2025, 10, 31, 1, 0, tzinfo=UTC),
    )
    text = dispatched_rule.render(envelope(p), p, NAMES)
    assert "就业创业" in text and "2025-10-31 09:00" in text  # Beijing time
    assert "u-grid" not in text

    mediated = DisputeMediated(
        dispute_id="d-1",
        kind="neighbourhood",
        outcome="failed",
        successful=False,
        sessions=3,
        concluded_at=datetime(2025, 10, 31, tzinfo=UTC),
        days_to_outcome=5,
        on_time=True,
    )
    failed_rule = compile_rule(dict(default_rules())["default-dispute-failed"])
    assert failed_rule.matches(envelope(mediated, COMMUNITY_PATH), mediated)
    assert "邻里纠纷" in failed_rule.render(envelope(mediated, COMMUNITY_PATH), mediated, NAMES)
    assert format_value("x", True) == "是" and format_value("x", None) == "—"


def test_a_rendered_text_never_carries_an_id_or_phone_number() -> None:
    r = compile_rule(rule("employment.employment_ended", template="原因:{reason}"))
    # built without the catalog (which refuses such a payload) to show that rendering masks too
    p = EmploymentEnded.model_validate(
        {
            "spell_id": "s",
            "resident_id": "r",
            "household_id": "h",
            "employment_type": "local",
            "organised_export": False,
            "monthly_wage": 3000,
            "started_on": "2025-01-01",
            "ended_on": "2025-10-31",
            "reason": "联系电话13912345678,身份证520330199001011234",
        }
    )
    env = Envelope(
        type=p.event_type,
        schema_version=1,
        occurred_at=datetime(2025, 10, 31, tzinfo=UTC),
        producer="t",
        area_path=tuple(BUILDING_PATH),
        aggregate_id="h",
        payload=p.model_dump(mode="json"),
    )
    text = r.render(env, p, {})
    assert "13912345678" not in text and "520330199001011234" not in text
    assert "139****5678" in text


def test_areas_outside_the_event_path_render_empty_and_unknown_names_as_codes() -> None:
    r = compile_rule(
        rule("employment.household_zero_employment_raised", template="[{community_name}][{building_name}]")
    )
    assert r.render(envelope(raised(), COMMUNITY_PATH), raised(), {}) == "[520330101001][]"
