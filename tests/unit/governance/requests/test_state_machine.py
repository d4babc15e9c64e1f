"""The 四单 state machine (every command from every state), the escalation chain, the deadlines
and the events each transition means: pure domain code, no I/O."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest

from governance_service.config import DEFAULT_REQUEST_DEADLINE_HOURS
from governance_service.requests.deadlines import DeadlinePolicy, next_level
from governance_service.requests.domain import RequestCase
from governance_service.requests.repository import from_doc, to_doc
from governance_service.requests.transitions import LEGAL_FROM, TARGET, Command
from governance_service.requests.values import Assignee
from governance_service.staff.domain import Actor
from relocation_shared.errors import Conflict, Forbidden
from relocation_shared.events import CATALOG
from relocation_shared.events.requests import (
    ESCALATION_CHAIN,
    CountyDepartment,
    EscalationLevel,
    RequestCategory,
    RequestEscalated,
    RequestOverdue,
    RequestRated,
    RequestReopened,
    RequestReported,
    RequestResolved,
    RequestState,
    RequestStep,
    Urgency,
)
from tests.clock import NOW
from tests.unit.governance.requests.cases import CADRE, PATH, POLICY, T0, submitted

WORKER = Actor(subject="grid-1", name="王网格", role="grid_worker")
OTHER_WORKER = Actor(subject="grid-2", name="赵网格", role="grid_worker")
OFFICER = Actor(subject="county-1", name="县人社局联络员", role="county_officer")
ASSIGNEE = Assignee(staff_id="stf-1", subject=WORKER.subject, name=WORKER.name)
OTHER_ASSIGNEE = Assignee(staff_id="stf-2", subject=OTHER_WORKER.subject, name=OTHER_WORKER.name)
ALL_STATES = list(RequestState)


def case_in(state: RequestState, *, whistled: bool = False) -> RequestCase:
    """A request brought to `state` by legal commands, an hour apart, events cleared."""
    c = submitted()
    t = T0
    if whistled:
        c.escalate(department=CountyDepartment.HOUSING, reason="需县住建局协调", by=CADRE, now=t, policy=POLICY)
    path = {
        RequestState.SUBMITTED: [],
        RequestState.DISPATCHED: [Command.DISPATCH],
        RequestState.ACCEPTED: [Command.DISPATCH, Command.ACCEPT],
        RequestState.RESOLVED: [Command.DISPATCH, Command.ACCEPT, Command.RESOLVE],
        RequestState.CLOSED: [Command.DISPATCH, Command.ACCEPT, Command.RESOLVE, Command.RATE],
        RequestState.REOPENED: [Command.DISPATCH, Command.ACCEPT, Command.RESOLVE, Command.RATE, Command.REOPEN],
    }[state]
    for cmd in path:
        t += timedelta(hours=1)
        apply(c, cmd, t)
    assert c.state is state
    c.events.clear()
    return c


def apply(c: RequestCase, cmd: Command, now: datetime, *, by: Actor | None = None) -> None:
    """Each command with valid arguments and its natural actor."""
    if cmd is Command.DISPATCH:  # a re-dispatch goes to another worker
        assignee = OTHER_ASSIGNEE if c.assignee == ASSIGNEE else ASSIGNEE
        c.dispatch(assignee=assignee, by=by or CADRE, now=now, policy=POLICY)
    elif cmd is Command.ACCEPT:
        c.accept(by=by or WORKER, now=now, policy=POLICY)
    elif cmd is Command.RESOLVE:
        c.resolve(summary="已更换灯泡", by=by or WORKER, now=now, policy=POLICY)
    elif cmd is Command.RATE:
        c.rate(score=5, comment="满意", party_org_id="org-1", by=by or CADRE, now=now)
    elif cmd is Command.REOPEN:
        c.reopen(reason="灯又坏了", by=by or CADRE, now=now, policy=POLICY)
    elif cmd is Command.ESCALATE:
        c.escalate(
            department=CountyDepartment.CIVIL_AFFAIRS, reason="需部门协调", by=by or CADRE, now=now, policy=POLICY
        )
    elif cmd is Command.REPORT:
        c.report(note="已到社区对接", by=by or OFFICER, now=now)


def snapshot(c: RequestCase) -> dict[str, Any]:
    return to_doc(c)


# --- every command from every state ----------------------------------------------------------------


@pytest.mark.parametrize("state", ALL_STATES, ids=str)
@pytest.mark.parametrize("cmd", list(Command), ids=str)
def test_every_command_from_every_state(cmd: Command, state: RequestState) -> None:
    # a report needs a pending whistle; every other command is tried on a request without one
    c = case_in(state, whistled=cmd is Command.REPORT)
    before = snapshot(c)
    now = T0 + timedelta(days=1)
    if state in LEGAL_FROM[cmd]:
        apply(c, cmd, now)
        expected = TARGET[cmd] or state
        assert c.state is expected
        assert c.events, "every transition records an event"
        for e in c.events:  # each is a registered, PII-free payload
            CATALOG.envelope(e, producer="test", area_path=PATH, aggregate_id=c.id, occurred_at=NOW)
    else:
        with pytest.raises(Conflict) as err:
            apply(c, cmd, now)
        assert err.value.field == "state"
        assert err.value.context["state"] == state.value
        assert state.value in str(err.value.context) and "当前状态" in err.value.message
        assert snapshot(c) == before and not c.events  # nothing changed


def test_the_table_is_the_四单_loop() -> None:
    assert LEGAL_FROM[Command.ACCEPT] == {RequestState.DISPATCHED}  # no accepting an undispatched request
    assert LEGAL_FROM[Command.RATE] == {RequestState.RESOLVED}  # no rating before resolution
    assert LEGAL_FROM[Command.REOPEN] == {RequestState.CLOSED}
    assert TARGET[Command.RATE] is RequestState.CLOSED


def test_conflict_message_names_the_state_in_chinese() -> None:
    c = case_in(RequestState.SUBMITTED)
    with pytest.raises(Conflict) as err:
        apply(c, Command.ACCEPT, T0)
    assert err.value.message == "该诉求当前状态为「已点单,待派单」,不能接单"


# --- who may act -------------------------------------------------------------------------------------


@pytest.mark.parametrize("cmd", [Command.ACCEPT, Command.RESOLVE], ids=str)
def test_only_the_assignee_accepts_and_resolves(cmd: Command) -> None:
    c = case_in(RequestState.DISPATCHED if cmd is Command.ACCEPT else RequestState.ACCEPTED)
    before = snapshot(c)
    with pytest.raises(Forbidden) as err:
        apply(c, cmd, T0 + timedelta(hours=5), by=OTHER_WORKER)
    assert err.value.field == "assignee"
    assert snapshot(c) == before and not c.events


def test_redispatch_to_another_worker_and_not_to_the_same() -> None:
    c = case_in(RequestState.DISPATCHED)
    with pytest.raises(Conflict):
        c.dispatch(assignee=ASSIGNEE, by=CADRE, now=T0 + timedelta(hours=3), policy=POLICY)
    c.dispatch(assignee=OTHER_ASSIGNEE, by=CADRE, now=T0 + timedelta(hours=3), policy=POLICY)
    (e,) = c.events
    assert e.redispatch is True and e.assignee_subject == "grid-2" and e.assignee_name_masked == "赵**"
    with pytest.raises(Forbidden):  # the first worker is no longer the assignee
        c.accept(by=WORKER, now=T0 + timedelta(hours=4), policy=POLICY)


def test_second_whistle_waits_for_the_report() -> None:
    c = case_in(RequestState.ACCEPTED, whistled=True)
    with pytest.raises(Conflict) as err:
        apply(c, Command.ESCALATE, T0 + timedelta(hours=5))
    assert "县住建局" in err.value.message and err.value.field == "department"
    apply(c, Command.REPORT, T0 + timedelta(hours=6))
    apply(c, Command.ESCALATE, T0 + timedelta(hours=7))  # after the report, another department may be called
    assert c.department is CountyDepartment.CIVIL_AFFAIRS and c.whistle_pending


def test_report_without_whistle_is_a_conflict() -> None:
    c = case_in(RequestState.ACCEPTED)
    with pytest.raises(Conflict) as err:
        apply(c, Command.REPORT, T0 + timedelta(hours=5))
    assert err.value.context["state"] == "accepted" and "没有待报到的吹哨" in err.value.message


# --- what the events carry -----------------------------------------------------------------------------


def test_whole_loop_events_carry_what_the_read_model_needs() -> None:
    c = submitted(category=RequestCategory.PUBLIC_SECURITY, urgency=Urgency.URGENT)
    (sub,) = c.events
    assert sub.level is EscalationLevel.BUILDING and sub.dispatch_due_at == T0 + timedelta(hours=4)
    c.dispatch(assignee=ASSIGNEE, by=CADRE, now=T0 + timedelta(hours=1), policy=POLICY)
    c.accept(by=WORKER, now=T0 + timedelta(hours=2), policy=POLICY)
    c.resolve(summary="已处理", by=WORKER, now=T0 + timedelta(hours=10), policy=POLICY)
    c.rate(score=4, comment=None, party_org_id="org-1", by=CADRE, now=T0 + timedelta(hours=12, minutes=30))
    types = [e.event_type for e in c.events]
    assert types == [
        "governance.request_submitted",
        "governance.request_dispatched",
        "governance.request_accepted",
        "governance.request_resolved",
        "governance.request_rated",
    ]
    resolved = c.events[3]
    assert isinstance(resolved, RequestResolved)
    assert resolved.resolution_level is EscalationLevel.BUILDING and resolved.resolved_low_level
    assert resolved.minutes_to_resolve == 600 and resolved.was_overdue is False
    rated = c.events[4]
    assert isinstance(rated, RequestRated)
    assert (rated.score, rated.minutes_to_close, rated.hours_to_close) == (4, 750, 12.5)
    assert rated.resolved_low_level and rated.party_org_id == "org-1" and rated.reopen_count == 0
    assert c.next_deadline_at is None  # closed: nothing to watch


def test_reopen_carries_the_closure_it_undoes() -> None:
    c = case_in(RequestState.CLOSED)
    closure = c.rating
    assert closure is not None
    c.reopen(reason="群众不满意", by=CADRE, now=T0 + timedelta(days=2), policy=POLICY)
    (e,) = c.events
    assert isinstance(e, RequestReopened)
    assert e.previous_score == closure.score == 5
    assert e.previous_minutes_to_close == closure.minutes_to_close == 4 * 60
    assert e.previous_resolution_level is EscalationLevel.BUILDING and e.previous_resolved_low_level
    assert e.reopen_count == 1 and c.assignee is None and c.rating is None and c.resolution_level is None
    assert c.step is RequestStep.DISPATCH and c.step_deadline_at == T0 + timedelta(days=2, hours=24)
    # it goes round again and closes a second time
    for i, cmd in enumerate((Command.DISPATCH, Command.ACCEPT, Command.RESOLVE, Command.RATE), start=1):
        apply(c, cmd, T0 + timedelta(days=2, hours=i))
    assert c.state is RequestState.CLOSED and c.events[-1].reopen_count == 1


def test_whistle_and_report() -> None:
    c = case_in(RequestState.ACCEPTED)
    c.escalate(
        department=CountyDepartment.HUMAN_RESOURCES,
        reason="就业问题需县人社局",
        by=CADRE,
        now=T0 + timedelta(hours=5),
        policy=POLICY,
    )
    (esc,) = c.events
    assert isinstance(esc, RequestEscalated)
    assert esc.manual and esc.from_level is EscalationLevel.BUILDING
    assert esc.to_level is EscalationLevel.COUNTY_DEPARTMENT and esc.department_label == "县人社局"
    assert esc.report_due_at == T0 + timedelta(hours=5 + 48)
    assert c.next_deadline_at == min(c.step_deadline_at, esc.report_due_at)
    c.report(note=None, by=OFFICER, now=T0 + timedelta(hours=8))
    rep = c.events[-1]
    assert isinstance(rep, RequestReported)
    assert rep.on_time and rep.minutes_to_report == 180 and not c.whistle_pending
    # resolved at the county department: not a building- or grid-level resolution
    c.resolve(summary="县人社局安排就业", by=WORKER, now=T0 + timedelta(hours=20), policy=POLICY)
    assert c.events[-1].resolution_level is EscalationLevel.COUNTY_DEPARTMENT
    assert c.events[-1].resolved_low_level is False


# --- the escalation chain and the deadlines ------------------------------------------------------------


def test_chain_order() -> None:
    assert ESCALATION_CHAIN == (
        EscalationLevel.BUILDING,
        EscalationLevel.GRID,
        EscalationLevel.COMMUNITY,
        EscalationLevel.TOWN,
        EscalationLevel.COUNTY_DEPARTMENT,
    )
    assert [next_level(lv) for lv in ESCALATION_CHAIN] == [*ESCALATION_CHAIN[1:], None]


def test_missed_deadlines_climb_the_chain_one_level_each_then_stay_overdue_at_the_top() -> None:
    c = submitted(urgency=Urgency.URGENT)  # dispatch within 4 h
    now = T0
    levels = []
    for i in range(6):
        assert c.next_deadline_at is not None
        assert c.on_deadline(now=c.next_deadline_at - timedelta(seconds=1), policy=POLICY) is False
        now = c.next_deadline_at
        assert c.on_deadline(now=now, policy=POLICY) is True
        assert c.next_deadline_at == now + timedelta(hours=4)  # a fresh period at the new level
        levels.append(c.level)
        overdue = [e for e in c.events if isinstance(e, RequestOverdue)]
        assert len(overdue) == i + 1 and overdue[-1].step is RequestStep.DISPATCH
        assert overdue[-1].first_overdue is (i == 0) and overdue[-1].overdue_count == i + 1
    assert levels == [
        EscalationLevel.GRID,
        EscalationLevel.COMMUNITY,
        EscalationLevel.TOWN,
        EscalationLevel.COUNTY_DEPARTMENT,
        EscalationLevel.COUNTY_DEPARTMENT,
        EscalationLevel.COUNTY_DEPARTMENT,
    ]
    escalated = [e for e in c.events if isinstance(e, RequestEscalated)]
    assert [(e.from_level, e.to_level) for e in escalated] == list(itertools.pairwise(ESCALATION_CHAIN))
    assert all(not e.manual and e.step is RequestStep.DISPATCH for e in escalated)
    assert c.state is RequestState.SUBMITTED  # escalation moves responsibility, not the state


@pytest.mark.parametrize(
    ("state", "step"),
    [
        (RequestState.SUBMITTED, RequestStep.DISPATCH),
        (RequestState.REOPENED, RequestStep.DISPATCH),
        (RequestState.DISPATCHED, RequestStep.ACCEPT),
        (RequestState.ACCEPTED, RequestStep.RESOLVE),
    ],
    ids=str,
)
def test_each_working_step_escalates(state: RequestState, step: RequestStep) -> None:
    c = case_in(state)
    level = c.level
    assert c.step is step and c.next_deadline_at is not None
    assert c.on_deadline(now=c.next_deadline_at, policy=POLICY)
    assert [type(e) for e in c.events] == [RequestOverdue, RequestEscalated]
    assert c.level is next_level(level) and c.state is state


def test_a_missed_rating_is_overdue_once_and_does_not_escalate() -> None:
    c = case_in(RequestState.RESOLVED)
    due = c.next_deadline_at
    assert due is not None and c.step is RequestStep.RATE
    assert c.on_deadline(now=due, policy=POLICY)
    assert [type(e) for e in c.events] == [RequestOverdue]
    assert c.level is EscalationLevel.BUILDING and c.next_deadline_at is None
    assert c.on_deadline(now=due + timedelta(days=30), policy=POLICY) is False
    c.rate(score=3, comment=None, party_org_id=None, by=CADRE, now=due + timedelta(days=1))
    assert c.events[-1].was_overdue is True


def test_a_missed_report_is_overdue_once() -> None:
    c = case_in(RequestState.ACCEPTED)
    c.escalate(department=CountyDepartment.HEALTH, reason="需县卫健局", by=CADRE, now=T0, policy=POLICY)
    c.events.clear()
    report_due = c.report_due_at
    assert report_due is not None and c.next_deadline_at == report_due  # 48 h, before the resolve deadline
    assert c.on_deadline(now=report_due, policy=POLICY)
    (e,) = c.events
    assert isinstance(e, RequestOverdue)
    assert e.step is RequestStep.REPORT and e.department is CountyDepartment.HEALTH
    assert c.next_deadline_at == c.step_deadline_at  # the report no longer watched
    c.report(note=None, by=OFFICER, now=report_due + timedelta(hours=1))
    assert c.events[-1].on_time is False


def test_deadline_policy_by_category_and_urgency() -> None:
    h = POLICY.hours
    assert h(category=RequestCategory.HOUSING, urgency=Urgency.GENERAL, step=RequestStep.RESOLVE) == 240
    assert h(category=RequestCategory.HOUSING, urgency=Urgency.GENERAL, step=RequestStep.DISPATCH) == 24
    assert h(category=RequestCategory.OTHER, urgency=Urgency.EMERGENCY, step=RequestStep.ACCEPT) == 1
    assert h(category=RequestCategory.PUBLIC_SECURITY, urgency=Urgency.GENERAL, step=RequestStep.DISPATCH) == 4
    with pytest.raises(ValueError, match="default"):
        DeadlinePolicy({"housing": {"general": {"resolve": 1}}})
    with pytest.raises(ValueError, match="missing"):
        DeadlinePolicy({"default": {"general": {"dispatch": 1}}})
    with pytest.raises(ValueError):
        DeadlinePolicy({**DEFAULT_REQUEST_DEADLINE_HOURS, "unknown": {"general": {"resolve": 1}}})
    bad = {"default": {u: {s: 1 for s in RequestStep} for u in Urgency}}
    bad["default"]["general"]["rate"] = 0
    with pytest.raises(ValueError, match="positive"):
        DeadlinePolicy(bad)


def test_document_round_trip() -> None:
    c = case_in(RequestState.REOPENED, whistled=True)
    doc = to_doc(c)
    assert to_doc(from_doc(doc)) == doc
    assert doc["next_deadline_at"] == c.next_deadline_at
    closed = to_doc(case_in(RequestState.CLOSED))
    assert "next_deadline_at" not in closed  # the sparse deadline index skips it
