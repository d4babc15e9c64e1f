"""Whom a rule tells: the cadres of the event's areas, or the subject a payload names; each once."""

from __future__ import annotations

from notifications_service.routing.domain import resolve_recipients
from notifications_service.rules.domain import compile_rule
from notifications_service.rules.models import AudienceIn, RuleIn
from tests.fakes.notifications import FakeDirectory
from tests.unit.notifications.events import dispatched
from tests.unit.notifications.support import (
    CADRES,
    PATH,
    T0,
    envelope,
    raised,
    zero_rule,
)

# --- recipients ----------------------------------------------------------------------------------


async def test_the_cadres_of_the_event_s_community_and_grid_are_told() -> None:
    recipients = await resolve_recipients(zero_rule(), envelope(raised()), raised(), FakeDirectory(CADRES))
    assert [(r.subject, r.role, r.depth) for r in recipients] == [
        ("u-cadre-1", "community_cadre", 4),
        ("u-cadre-2", "community_cadre", 4),
        ("u-grid-1", "grid_worker", 5),
    ]
    assert recipients[0].name_masked == "王*" and recipients[0].staff_id == "s-c1"


async def test_unassigned_cadres_and_levels_the_event_does_not_reach_are_left_out() -> None:
    docs = [dict(d) for d in CADRES]
    docs[1]["active"] = False
    recipients = await resolve_recipients(
        zero_rule(), envelope(raised(), PATH[:5]), raised(), FakeDirectory(docs)
    )  # a community-level event has no grid
    assert [r.subject for r in recipients] == ["u-cadre-1"]


async def test_a_subject_audience_finds_the_assignee_and_tells_a_person_only_once() -> None:
    data = RuleIn(
        name="派单",
        event_type="governance.request_dispatched",
        audience=[AudienceIn(subject_field="assignee_subject"), AudienceIn(role="grid_worker")],
        title="派单",
        template="{request_id}",
    )
    rule = compile_rule(data)
    p = dispatched(request_id="rq", accept_due_at=T0)
    recipients = await resolve_recipients(rule, envelope(p), p, FakeDirectory(CADRES))
    assert [(r.subject, r.depth) for r in recipients] == [("u-grid-1", 5)]

    unknown = p.model_copy(update={"assignee_subject": "u-new"})
    recipients = await resolve_recipients(rule, envelope(unknown), unknown, FakeDirectory(CADRES))
    assert [(r.subject, r.role) for r in recipients] == [("u-new", ""), ("u-grid-1", "grid_worker")]
