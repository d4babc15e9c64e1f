"""吹哨报到 and missed deadlines of a request: a whistle straight to a named county department,
which must report (报到) by its deadline, and what the scheduler does with a request whose
step or report deadline passed (overdue, one level up the escalation chain). Part of
`RequestCase` (domain.py); pure, no I/O."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from governance_service.requests.deadlines import DeadlinePolicy, minutes_between, next_level
from governance_service.requests.transitions import Command
from governance_service.staff.domain import SYSTEM, Actor
from relocation_shared.errors import Conflict
from relocation_shared.events.envelope import EventPayload
from relocation_shared.events.requests import (
    COUNTY_DEPARTMENT_LABELS,
    REQUEST_STATE_LABELS,
    CountyDepartment,
    EscalationLevel,
    RequestCategory,
    RequestEscalated,
    RequestOverdue,
    RequestReported,
    RequestState,
    RequestStep,
    Urgency,
)

if TYPE_CHECKING:
    from governance_service.requests.values import Assignee


class Escalation:
    """The whistle, the report and the deadlines of `RequestCase`, which defines what is declared here."""

    if TYPE_CHECKING:
        id: str
        category: RequestCategory
        urgency: Urgency
        state: RequestState
        level: EscalationLevel
        assignee: Assignee | None
        step_deadline_at: datetime | None
        department: CountyDepartment | None
        whistled_at: datetime | None
        report_due_at: datetime | None
        reported_at: datetime | None
        report_overdue: bool
        overdue_count: int
        events: list[EventPayload]

        @property
        def step(self) -> RequestStep | None: ...
        @property
        def whistle_pending(self) -> bool: ...
        @property
        def report_watched(self) -> bool: ...
        def check(self, command: Command) -> None: ...
        def _due(self, step: RequestStep, start: datetime, policy: DeadlinePolicy) -> datetime: ...
        def _log(self, action: str, by: Actor, now: datetime, before: RequestState, **extra: Any) -> None: ...

    def escalate(
        self, *, department: CountyDepartment, reason: str, by: Actor, now: datetime, policy: DeadlinePolicy
    ) -> None:
        """吹哨: straight to a named county department, which must report by its deadline."""
        self.check(Command.ESCALATE)
        if self.whistle_pending:
            assert self.department is not None
            raise Conflict(
                f"已向{COUNTY_DEPARTMENT_LABELS[self.department]}吹哨,等待部门报到",
                field="department",
                state=self.state.value,
            )
        before_level = self.level
        self.level = EscalationLevel.COUNTY_DEPARTMENT
        self.department = department
        self.whistled_at = now
        self.reported_at = None
        self.report_overdue = False
        self.report_due_at = self._due(RequestStep.REPORT, now, policy)
        self._log("escalate", by, now, self.state, department=department.value, reason=reason)
        self._escalated(
            before_level,
            manual=True,
            department=department,
            department_label=COUNTY_DEPARTMENT_LABELS[department],
            report_due_at=self.report_due_at,
        )

    def report(self, *, note: str | None, by: Actor, now: datetime) -> None:
        """部门报到: the department the whistle named takes the request up."""
        self.check(Command.REPORT)
        if not self.whistle_pending:
            raise Conflict(
                f"该诉求没有待报到的吹哨(当前状态为「{REQUEST_STATE_LABELS[self.state]}」)",
                field="state",
                state=self.state.value,
            )
        assert self.department is not None and self.whistled_at is not None and self.report_due_at is not None
        self.reported_at = now
        self._log("report", by, now, self.state, department=self.department.value, note=note)
        self.events.append(
            RequestReported(
                request_id=self.id,
                category=self.category,
                department=self.department,
                department_label=COUNTY_DEPARTMENT_LABELS[self.department],
                reported_at=now,
                minutes_to_report=minutes_between(self.whistled_at, now),
                on_time=now <= self.report_due_at,
            )
        )

    def on_deadline(self, *, now: datetime, policy: DeadlinePolicy) -> bool:
        """What the scheduler does with a due request: a missed step is overdue and escalates one
        level (the step gets a new deadline at the new level; at the top it stays overdue and is
        reminded each period); a missed rating is overdue once; a missed 报到 is overdue once.
        Returns whether anything changed."""
        changed = False
        if self.report_watched and self.report_due_at is not None and self.report_due_at <= now:
            self.report_overdue = True
            self._overdue(RequestStep.REPORT, self.report_due_at, now)
            changed = True
        step = self.step
        if step is not None and self.step_deadline_at is not None and self.step_deadline_at <= now:
            missed = self.step_deadline_at
            self._overdue(step, missed, now)
            if step is RequestStep.RATE:
                self.step_deadline_at = None
            else:
                self._climb(step, now, policy)
            changed = True
        return changed

    def _climb(self, step: RequestStep, now: datetime, policy: DeadlinePolicy) -> None:
        """A missed working step: a fresh period for it, one level up the chain (at the top it stays)."""
        self.step_deadline_at = self._due(step, now, policy)
        up = next_level(self.level)
        if up is not None:
            before_level, self.level = self.level, up
            self._log("escalate", SYSTEM, now, self.state, step=step.value)
            self._escalated(before_level, manual=False, step=step)

    def _escalated(self, from_level: EscalationLevel, **extra: Any) -> None:
        """The event of a move up to the level the request is now at."""
        self.events.append(
            RequestEscalated(
                request_id=self.id,
                category=self.category,
                state=self.state,
                from_level=from_level,
                to_level=self.level,
                due_at=self.step_deadline_at,
                **extra,
            )
        )

    def _overdue(self, step: RequestStep, deadline: datetime, now: datetime) -> None:
        self.overdue_count += 1
        self._log("overdue", SYSTEM, now, self.state, step=step.value, deadline_at=deadline)
        self.events.append(
            RequestOverdue(
                request_id=self.id,
                category=self.category,
                urgency=self.urgency,
                state=self.state,
                step=step,
                level=self.level,
                deadline_at=deadline,
                first_overdue=self.overdue_count == 1,
                overdue_count=self.overdue_count,
                assignee_subject=self.assignee.subject if self.assignee else None,
                department=self.department if step is RequestStep.REPORT else None,
            )
        )
