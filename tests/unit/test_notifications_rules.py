"""Rules without I/O: conditions, compilation against the catalog (refusals name the field),
template rendering with masking, and which fields count as personal data."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from notifications_service.models import (
    AudienceIn,
    ConditionIn,
    RuleIn,
    Urgency,
    compile_rule,
    default_rules,
    format_value,
    is_personal,
    placeholders,
    render,
    template_fields,
)
from relocation_shared.errors import InvalidInput
from relocation_shared.events import CATALOG, Envelope, EventPayload
from relocation_shared.events.community import DisputeMediated, RequestDispatched, RequestOverdue
from relocation_shared.events.employment import EmploymentEnded, HouseholdZeroEmploymentRaised
from relocation_shared.events.governance import HouseholdRegistered
from relocation_shared.events.projects import DividendPaid

COMMUNITY_PATH = ["520000", "520300", "520330", "520330101000", "520330101001"]
BUILDING_PATH = [*COMMUNITY_PATH, "520330101001-G01", "520330101001-G01-B03"]
NAMES = {
    "520330101001": "易居社区",
    "520330101001-G01": "第一网格",
    "520330101001-G01-B03": "3栋",
}


def envelope(payload: EventPayload, path: list[str] = BUILDING_PATH, at: datetime | None = None) -> Envelope:
    return CATALOG.envelope(
        payload,
        producer="test",
        area_path=path,
        aggregate_id="agg",
        occurred_at=at or datetime(2025, 10, 31, 6, 30, tzinfo=UTC),
    )


def raised(labour: int = 2) -> HouseholdZeroEmploymentRaised:
    return HouseholdZeroEmploymentRaised(
        household_id="hh-1", labour_count=labour, since=datetime(2025, 10, 31, tzinfo=UTC), cause="employment_ended"
    )


def overdue(level: str, **kw: Any) -> RequestOverdue:
    data: dict[str, Any] = {
        "request_id": "rq-1",
        "category": "housing",
        "urgency": "urgent",
        "state": "dispatched",
        "step": "accept",
        "level": level,
        "deadline_at": datetime(2025, 10, 31, 2, 0, tzinfo=UTC),
        "first_overdue": True,
        "overdue_count": 1,
    }
    return RequestOverdue(**{**data, **kw})


def rule(event_type: str, *, conditions: list[dict[str, Any]] | None = None, template: str = "x", **kw: Any) -> RuleIn:
    return RuleIn(
        name="测试规则",
        event_type=event_type,
        conditions=[ConditionIn(**c) for c in conditions or []],
        audience=[AudienceIn(**a) for a in kw.pop("audience", [{"role": "community_cadre"}])],
        title="标题",
        template=template,
        **kw,
    )


def refused(data: RuleIn) -> InvalidInput:
    with pytest.raises(InvalidInput) as err:
        compile_rule(data)
    return err.value


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

    dividend = DividendPaid(
        entry_id="e1",
        project_id="p1",
        kind="industry",
        chain="agriculture",
        source_kinds=["central_earmarked"],
        recipient="collective",
        community_code="520330101001",
        amount_fen=12_345_678,
        year=2025,
        paid_on=date(2025, 10, 1),
        households_benefiting_delta=0,
    )
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
    env = envelope(dividend, COMMUNITY_PATH)
    assert central.matches(env, dividend) and not city.matches(env, dividend)


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


# --- compilation: event types, audience, urgency ----------------------------------------------


def test_an_unknown_event_type_is_refused() -> None:
    err = refused(rule("employment.household_vanished"))
    assert err.field == "event_type" and "未知的事件类型" in err.message


@pytest.mark.parametrize(
    ("audience", "field"),
    [
        ([{"role": "grid_worker", "level": "community"}], "audience.0.level"),
        ([{"role": "commission_viewer"}], "audience.0.role"),
        ([{}], "audience.0"),
        ([{"role": "grid_worker", "subject_field": "assignee_subject"}], "audience.0"),
    ],
)
def test_bad_audiences_are_refused(audience: list[dict[str, Any]], field: str) -> None:
    assert refused(rule("governance.request_dispatched", audience=audience)).field == field


def test_a_subject_audience_must_name_a_subject_field_of_the_payload() -> None:
    assert refused(rule("governance.request_dispatched", audience=[{"subject_field": "assignee"}])).field == (
        "audience.0.subject_field"
    )
    assert refused(rule("governance.request_dispatched", audience=[{"subject_field": "request_id"}])).field == (
        "audience.0.subject_field"
    )
    ok = compile_rule(rule("governance.request_dispatched", audience=[{"subject_field": "assignee_subject"}]))
    assert ok.audience[0].subject_field == "assignee_subject"


def test_urgent_rules_need_an_acknowledgement_window_and_normal_ones_none() -> None:
    assert refused(rule("governance.dispute_mediated", urgency=Urgency.URGENT)).field == "ack_window_minutes"
    assert refused(rule("governance.dispute_mediated", ack_window_minutes=30)).field == "ack_window_minutes"
    r = compile_rule(rule("governance.dispute_mediated", urgency=Urgency.URGENT, ack_window_minutes=30))
    assert r.ack_window is not None and r.ack_window.total_seconds() == 1800


def test_every_default_rule_compiles_against_the_catalog() -> None:
    rules = dict(default_rules())
    assert "default-zero-employment-raised" in rules and "default-zero-employment-cleared" in rules
    for rule_id, data in rules.items():
        compiled = compile_rule(data, rule_id=rule_id)
        assert compiled.audience
    raised_rule = rules["default-zero-employment-raised"]
    assert raised_rule.urgency is Urgency.URGENT and raised_rule.ack_window_minutes
    assert {a.role for a in raised_rule.audience} == {"community_cadre", "grid_worker"}
    assert rules["default-zero-employment-cleared"].urgency is Urgency.NORMAL


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
    d = DividendPaid(
        entry_id="e1",
        project_id="p1",
        kind="industry",
        chain=None,
        source_kinds=["central_earmarked"],
        recipient="collective",
        community_code="520330101001",
        amount_fen=12_345_678,
        year=2025,
        paid_on=date(2025, 10, 1),
        households_benefiting_delta=0,
    )
    text = dividend_rule.render(envelope(d, COMMUNITY_PATH), d, NAMES)
    assert "123,456.78元" in text and "社区集体" in text and "2025-10-01" in text and "易居社区" in text

    dispatched_rule = compile_rule(dict(default_rules())["default-request-dispatched"])
    p = RequestDispatched(
        request_id="rq-9",
        category="employment",
        grid_code="520330101001-G01",
        assignee_staff_id="stf-1",
        assignee_subject="u-grid",
        assignee_name_masked="李*",
        level="grid",
        redispatch=False,
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


def test_a_rule_on_an_event_the_service_does_not_consume_is_refused() -> None:
    err = refused(rule("notifications.escalated"))
    assert err.field == "event_type" and "不在通知服务订阅的主题中" in err.message
