"""Compiling rules against the event catalog: event types, audiences, urgency, the default rules."""

from __future__ import annotations

from typing import Any

import pytest

from notifications_service.rules.defaults import default_rules
from notifications_service.rules.domain import compile_rule
from notifications_service.rules.models import Urgency
from tests.unit.notifications.rules.support import (
    refused,
    rule,
)

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


def test_a_rule_on_an_event_the_service_does_not_consume_is_refused() -> None:
    err = refused(rule("notifications.escalated"))
    assert err.field == "event_type" and "不在通知服务订阅的主题中" in err.message
