"""A dispute under mediation as a small state machine with a deadline: open → concluded
(调解成功 / 调解不成 / 移交). Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from governance_service.staff.domain import Actor
from relocation_shared.dates import plausible_instant
from relocation_shared.errors import Conflict, InvalidInput
from relocation_shared.events.disputes import (
    DisputeKind,
    DisputeMediated,
    DisputeOutcome,
    DisputeOverdue,
    DisputeRegistered,
)
from relocation_shared.events.envelope import EventPayload
from relocation_shared.pii import mask_name


class DisputeState(StrEnum):
    OPEN = "open"
    CONCLUDED = "concluded"


DISPUTE_STATE_LABELS = {DisputeState.OPEN: "调解中", DisputeState.CONCLUDED: "已结案"}


@dataclass
class DisputeCase:
    """A dispute under mediation: open → concluded (调解成功 / 调解不成 / 移交), with a deadline."""

    id: str
    kind: DisputeKind
    summary: str
    community_code: str
    building_code: str | None
    area_path: list[str]
    parties: list[dict[str, Any]]
    mediator_name: str
    mediator_subject: str | None
    registered_at: datetime
    registered_by: Actor
    due_at: datetime
    state: DisputeState = DisputeState.OPEN
    version: int = 1
    sessions: list[dict[str, Any]] = field(default_factory=list)
    outcome: DisputeOutcome | None = None
    referred_to: str | None = None
    outcome_note: str | None = None
    concluded_at: datetime | None = None
    overdue: bool = False
    events: list[EventPayload] = field(default_factory=list)

    @property
    def next_deadline_at(self) -> datetime | None:
        return self.due_at if self.state is DisputeState.OPEN and not self.overdue else None

    def _check_open(self, what: str) -> None:
        if self.state is not DisputeState.OPEN:
            raise Conflict(
                f"该纠纷当前状态为「{DISPUTE_STATE_LABELS[self.state]}」,不能{what}",
                field="state",
                state=self.state.value,
            )

    @classmethod
    def register(
        cls,
        *,
        dispute_id: str,
        kind: DisputeKind,
        summary: str,
        community_code: str,
        building_code: str | None,
        area_path: list[str],
        parties: list[dict[str, Any]],
        mediator_name: str,
        mediator_subject: str | None,
        by: Actor,
        now: datetime,
        due_at: datetime,
    ) -> DisputeCase:
        case = cls(
            id=dispute_id,
            kind=kind,
            summary=summary,
            community_code=community_code,
            building_code=building_code,
            area_path=area_path,
            parties=parties,
            mediator_name=mediator_name,
            mediator_subject=mediator_subject,
            registered_at=now,
            registered_by=by,
            due_at=due_at,
        )
        case.events.append(
            DisputeRegistered(
                dispute_id=dispute_id,
                kind=kind,
                community_code=community_code,
                parties_count=len(parties),
                mediator_name_masked=mask_name(mediator_name),
                mediator_subject=mediator_subject,
                registered_at=now,
                due_at=due_at,
            )
        )
        return case

    def add_session(self, *, held_at: datetime, note: str, by: Actor, now: datetime) -> None:
        self._check_open("记录调解")
        # a naive 0001-01-01T00:00 read as Beijing time lies before year 1 in UTC: refused here,
        # before anything converts it (business_day, BSON) and overflows
        plausible_instant(held_at, now=now, field="held_at", what="调解时间")
        self.sessions.append({"held_at": held_at, "note": note, "recorded_by": by.as_dict(), "recorded_at": now})

    def conclude(
        self, *, outcome: DisputeOutcome, referred_to: str | None, note: str | None, by: Actor, now: datetime
    ) -> None:
        self._check_open("登记调解结果")
        if outcome is DisputeOutcome.REFERRED and not referred_to:
            raise InvalidInput("移交处理须填写移交单位", field="referred_to")
        if outcome is not DisputeOutcome.REFERRED and referred_to:
            raise InvalidInput("只有移交处理才填写移交单位", field="referred_to")
        if outcome is not DisputeOutcome.REFERRED and not self.sessions:
            raise Conflict("尚未记录调解过程,不能登记调解结果", field="sessions", state=self.state.value)
        self.state = DisputeState.CONCLUDED
        self.outcome = outcome
        self.referred_to = referred_to
        self.outcome_note = note
        self.concluded_at = now
        self.events.append(
            DisputeMediated(
                dispute_id=self.id,
                kind=self.kind,
                outcome=outcome,
                successful=outcome is DisputeOutcome.MEDIATED_SUCCESSFULLY,
                referred_to=referred_to,
                sessions=len(self.sessions),
                concluded_at=now,
                days_to_outcome=max(0, (now - self.registered_at).days),
                on_time=now <= self.due_at,
            )
        )

    def on_deadline(self, *, now: datetime) -> bool:
        if self.next_deadline_at is None or self.due_at > now:
            return False
        self.overdue = True
        self.events.append(
            DisputeOverdue(dispute_id=self.id, kind=self.kind, due_at=self.due_at, sessions=len(self.sessions))
        )
        return True
