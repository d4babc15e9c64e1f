"""The resident request (民情实事) as a state machine: commands check the state (409 naming it)
and the actor, change the case and append the events they mean. Deadlines are data on the case;
`on_deadline` is what the scheduler applies when one is missed. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from governance_service.requests.deadlines import DeadlinePolicy, minutes_between
from governance_service.requests.escalation import Escalation
from governance_service.requests.transitions import COMMAND_LABELS, LEGAL_FROM, STEP_OF_STATE, Command, state_conflict
from governance_service.requests.values import Assignee, Rating
from governance_service.staff.domain import Actor
from relocation_shared.errors import Conflict, Forbidden
from relocation_shared.events.envelope import EventPayload
from relocation_shared.events.requests import (
    LOW_LEVELS,
    CountyDepartment,
    EscalationLevel,
    RequestAccepted,
    RequestCategory,
    RequestDispatched,
    RequestRated,
    RequestReopened,
    RequestResolved,
    RequestSource,
    RequestState,
    RequestStep,
    RequestSubmitted,
    Urgency,
)
from relocation_shared.pii import mask_name


@dataclass
class RequestCase(Escalation):
    """A resident request (民情实事) through the 四单 loop.

    Commands check the state (409 naming it) and the actor, change the case and append the
    events they mean to `events`; the service saves the case with a compare-and-set on
    `version` and records the events in the same transaction. Deadlines are data:
    `step_deadline_at` for the running step and `report_due_at` for a pending 部门报到;
    `next_deadline_at` is what the scheduler scans."""

    id: str
    category: RequestCategory
    urgency: Urgency
    source: RequestSource
    description: str
    household_id: str | None
    community_code: str
    grid_code: str
    building_code: str
    area_path: list[str]
    submitted_at: datetime
    submitted_by: Actor
    state: RequestState = RequestState.SUBMITTED
    level: EscalationLevel = EscalationLevel.BUILDING
    version: int = 1
    assignee: Assignee | None = None
    dispatched_at: datetime | None = None
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    step_deadline_at: datetime | None = None
    department: CountyDepartment | None = None
    whistled_at: datetime | None = None
    report_due_at: datetime | None = None
    reported_at: datetime | None = None
    report_overdue: bool = False
    overdue_count: int = 0
    resolution_level: EscalationLevel | None = None
    resolution_summary: str | None = None
    rating: Rating | None = None
    reopen_count: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    events: list[EventPayload] = field(default_factory=list)

    # --- derived -------------------------------------------------------------------------
    @property
    def step(self) -> RequestStep | None:
        return STEP_OF_STATE[self.state]

    @property
    def whistle_pending(self) -> bool:
        return self.department is not None and self.reported_at is None

    @property
    def report_watched(self) -> bool:
        return self.whistle_pending and not self.report_overdue and self.state is not RequestState.CLOSED

    @property
    def next_deadline_at(self) -> datetime | None:
        due = [d for d in (self.step_deadline_at, self.report_due_at if self.report_watched else None) if d]
        return min(due) if due else None

    # --- helpers -------------------------------------------------------------------------
    def check(self, command: Command) -> None:
        """409 naming the current state when `command` may not start from it."""
        if self.state not in LEGAL_FROM[command]:
            raise state_conflict(self.state, COMMAND_LABELS[command])

    def _require_assignee(self, by: Actor, command: Command) -> None:
        if self.assignee is None or self.assignee.subject != by.subject:
            raise Forbidden(f"只有被派单的网格员可以{COMMAND_LABELS[command]}", field="assignee")

    def _due(self, step: RequestStep, start: datetime, policy: DeadlinePolicy) -> datetime:
        return policy.due(category=self.category, urgency=self.urgency, step=step, start=start)

    def _log(self, action: str, by: Actor, now: datetime, before: RequestState, **extra: Any) -> None:
        self.history.append(
            {
                "action": action,
                "at": now,
                "by": by.as_dict(),
                "from": before.value,
                "to": self.state.value,
                "level": self.level.value,
                **extra,
            }
        )

    # --- commands ------------------------------------------------------------------------
    @classmethod
    def submit(
        cls,
        *,
        request_id: str,
        category: RequestCategory,
        urgency: Urgency,
        source: RequestSource,
        description: str,
        household_id: str | None,
        building_path: list[str],
        by: Actor,
        now: datetime,
        policy: DeadlinePolicy,
    ) -> RequestCase:
        """群众点单. `building_path` runs province … community, grid, building."""
        community_code, grid_code, building_code = building_path[-3:]
        case = cls(
            id=request_id,
            category=category,
            urgency=urgency,
            source=source,
            description=description,
            household_id=household_id,
            community_code=community_code,
            grid_code=grid_code,
            building_code=building_code,
            area_path=list(building_path),
            submitted_at=now,
            submitted_by=by,
        )
        case.step_deadline_at = case._due(RequestStep.DISPATCH, now, policy)
        case._log("submit", by, now, RequestState.SUBMITTED)
        case.events.append(
            RequestSubmitted(
                request_id=request_id,
                category=category,
                urgency=urgency,
                source=source,
                household_id=household_id,
                community_code=community_code,
                grid_code=grid_code,
                building_code=building_code,
                level=case.level,
                submitted_at=now,
                dispatch_due_at=case.step_deadline_at,
            )
        )
        return case

    def dispatch(self, *, assignee: Assignee, by: Actor, now: datetime, policy: DeadlinePolicy) -> None:
        """社区派单 to a grid worker of the request's grid (the service checks the grid)."""
        self.check(Command.DISPATCH)
        before = self.state
        if before is RequestState.DISPATCHED and self.assignee == assignee:
            raise Conflict("该诉求已派给这名网格员", field="staff_id", state=before.value)
        self.state = RequestState.DISPATCHED
        self.assignee = assignee
        self.dispatched_at = now
        self.step_deadline_at = self._due(RequestStep.ACCEPT, now, policy)
        self._log("dispatch", by, now, before, assignee=assignee.as_dict())
        self.events.append(
            RequestDispatched(
                request_id=self.id,
                category=self.category,
                grid_code=self.grid_code,
                assignee_staff_id=assignee.staff_id,
                assignee_subject=assignee.subject,
                assignee_name_masked=mask_name(assignee.name),
                level=self.level,
                redispatch=before is RequestState.DISPATCHED,
                accept_due_at=self.step_deadline_at,
            )
        )

    def accept(self, *, by: Actor, now: datetime, policy: DeadlinePolicy) -> None:
        """网格员接单: only the grid worker it was dispatched to."""
        self.check(Command.ACCEPT)
        self._require_assignee(by, Command.ACCEPT)
        assert self.assignee is not None
        before = self.state
        self.state = RequestState.ACCEPTED
        self.accepted_at = now
        self.step_deadline_at = self._due(RequestStep.RESOLVE, now, policy)
        self._log("accept", by, now, before)
        self.events.append(
            RequestAccepted(
                request_id=self.id,
                category=self.category,
                assignee_staff_id=self.assignee.staff_id,
                assignee_subject=self.assignee.subject,
                level=self.level,
                accepted_at=now,
                resolve_due_at=self.step_deadline_at,
            )
        )

    def resolve(self, *, summary: str, by: Actor, now: datetime, policy: DeadlinePolicy) -> None:
        """办结 by the assignee, at the level the request has reached."""
        self.check(Command.RESOLVE)
        self._require_assignee(by, Command.RESOLVE)
        before = self.state
        self.state = RequestState.RESOLVED
        self.resolved_at = now
        self.resolution_level = self.level
        self.resolution_summary = summary
        self.step_deadline_at = self._due(RequestStep.RATE, now, policy)
        self._log("resolve", by, now, before)
        self.events.append(
            RequestResolved(
                request_id=self.id,
                category=self.category,
                resolution_level=self.level,
                resolved_low_level=self.level in LOW_LEVELS,
                resolved_at=now,
                minutes_to_resolve=minutes_between(self.submitted_at, now),
                was_overdue=self.overdue_count > 0,
                reopen_count=self.reopen_count,
                rate_due_at=self.step_deadline_at,
            )
        )

    def rate(self, *, score: int, comment: str | None, party_org_id: str | None, by: Actor, now: datetime) -> None:
        """党组织评单: the request closes."""
        self.check(Command.RATE)
        if not 1 <= score <= 5:
            raise ValueError("score must be 1–5")
        assert self.resolution_level is not None
        before = self.state
        minutes = minutes_between(self.submitted_at, now)
        self.rating = Rating(
            score=score,
            comment=comment,
            party_org_id=party_org_id,
            rated_by=by,
            rated_at=now,
            resolution_level=self.resolution_level,
            minutes_to_close=minutes,
            was_overdue=self.overdue_count > 0,
        )
        self.state = RequestState.CLOSED
        self.closed_at = now
        self.step_deadline_at = None
        self._log("rate", by, now, before, score=score)
        self.events.append(
            RequestRated(
                request_id=self.id,
                category=self.category,
                score=score,
                party_org_id=party_org_id,
                resolution_level=self.resolution_level,
                resolved_low_level=self.resolution_level in LOW_LEVELS,
                closed_at=now,
                minutes_to_close=minutes,
                hours_to_close=round(minutes / 60, 2),
                was_overdue=self.rating.was_overdue,
                reopen_count=self.reopen_count,
            )
        )

    def reopen(self, *, reason: str, by: Actor, now: datetime, policy: DeadlinePolicy) -> None:
        """The resident disputes the outcome: back to the community for dispatch."""
        self.check(Command.REOPEN)
        closure = self.rating
        assert closure is not None
        before = self.state
        self.reopen_count += 1
        self.state = RequestState.REOPENED
        self.assignee = None
        self.rating = None
        self.resolution_level = None
        self.resolution_summary = None
        self.resolved_at = None
        self.closed_at = None
        self.step_deadline_at = self._due(RequestStep.DISPATCH, now, policy)
        self._log("reopen", by, now, before, reason=reason, previous_rating=closure.as_dict())
        self.events.append(
            RequestReopened(
                request_id=self.id,
                category=self.category,
                reopen_count=self.reopen_count,
                previous_score=closure.score,
                previous_resolution_level=closure.resolution_level,
                previous_resolved_low_level=closure.resolution_level in LOW_LEVELS,
                previous_minutes_to_close=closure.minutes_to_close,
                previous_was_overdue=closure.was_overdue,
                level=self.level,
                dispatch_due_at=self.step_deadline_at,
            )
        )
