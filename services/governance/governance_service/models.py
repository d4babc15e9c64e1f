"""Models of the registry (areas, households (建档立卡 / 同步搬迁) and residents) and of the
community work: staffing, party organisations, the 四单 resident requests with their state
machine, deadlines and escalation chain, disputes, door-to-door services and points."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from relocation_shared.areas import Level
from relocation_shared.batch import Input
from relocation_shared.clock import CHINA_TZ
from relocation_shared.errors import Conflict, Forbidden, InvalidInput
from relocation_shared.events.community import (
    COUNTY_DEPARTMENT_LABELS,
    DISPUTE_KIND_LABELS,
    DISPUTE_OUTCOME_LABELS,
    ESCALATION_CHAIN,
    ESCALATION_LEVEL_LABELS,
    LOW_LEVELS,
    PARTY_ORG_KIND_LABELS,
    POINTS_CATEGORY_LABELS,
    REQUEST_CATEGORY_LABELS,
    REQUEST_SOURCE_LABELS,
    REQUEST_STATE_LABELS,
    REQUEST_STEP_LABELS,
    URGENCY_LABELS,
    VISIT_SERVICE_LABELS,
    CountyDepartment,
    DisputeKind,
    DisputeMediated,
    DisputeOutcome,
    DisputeOverdue,
    DisputeRegistered,
    EscalationLevel,
    PartyOrgKind,
    PointsCategory,
    RequestAccepted,
    RequestCategory,
    RequestDispatched,
    RequestEscalated,
    RequestOverdue,
    RequestRated,
    RequestReopened,
    RequestReported,
    RequestResolved,
    RequestSource,
    RequestState,
    RequestStep,
    RequestSubmitted,
    Urgency,
    VisitService,
)
from relocation_shared.events.envelope import EventPayload
from relocation_shared.events.vocab import HOUSEHOLD_KIND_LABELS, HouseholdKind, Sex
from relocation_shared.pii import FreeText, InvalidNationalId, mask_name, parse_national_id, refuse_pii

_CODE = r"^[0-9]{6}([0-9]{6})?(-G[0-9]{2,3}(-B[0-9]{2,3})?)?$"
_PHONE = re.compile(r"^1[3-9][0-9]{9}$")


class AreaIn(Input):
    code: str = Field(pattern=_CODE, description="区划代码:县级6位,镇和社区12位,网格/楼栋在社区代码后加 -Gnn / -Bnn")
    name: FreeText = Field(min_length=1, max_length=60)
    level: Level
    parent: str = Field(pattern=_CODE)


class Area(BaseModel):
    code: str
    name: str
    level: Level
    parent: str | None
    path: list[str]
    demo: bool = False


class HouseholdIn(Input):
    kind: HouseholdKind = Field(description="registered_poor 建档立卡 / co_relocated 同步搬迁")
    community_code: str = Field(pattern=_CODE)
    grid_code: str = Field(pattern=_CODE)
    building_code: str = Field(pattern=_CODE)
    room: FreeText | None = Field(None, max_length=20)
    registered_on: date | None = None


class Household(BaseModel):
    id: str
    kind: HouseholdKind
    kind_label: str
    community_code: str
    grid_code: str
    building_code: str
    room: str | None
    registered_on: date
    area_path: list[str]
    residents: list[Resident] | None = None

    @classmethod
    def from_doc(cls, doc: dict[str, Any], residents: list[Resident] | None = None) -> Household:
        return cls(
            id=doc["_id"],
            kind=doc["kind"],
            kind_label=HOUSEHOLD_KIND_LABELS[HouseholdKind(doc["kind"])],
            community_code=doc["community_code"],
            grid_code=doc["grid_code"],
            building_code=doc["building_code"],
            room=doc.get("room"),
            registered_on=date.fromisoformat(doc["registered_on"]),
            area_path=doc["area_path"],
            residents=residents,
        )


class ResidentIn(Input):
    household_id: str = Field(min_length=1, max_length=64)
    community_code: str = Field(pattern=_CODE, description="登记所在社区;须与该户所在社区一致")
    name: FreeText = Field(min_length=1, max_length=50)
    national_id: str = Field(min_length=1, max_length=32, description="居民身份证号码(只保存掩码和密钥散列)")
    phone: str | None = Field(None, max_length=20)
    labour_capacity: bool = Field(description="是否有劳动能力")

    @field_validator("national_id")
    @classmethod
    def _valid_id(cls, v: str) -> str:
        try:
            parse_national_id(v)
        except InvalidNationalId as exc:
            raise ValueError(str(exc)) from None
        return v.strip().upper()

    @field_validator("phone")
    @classmethod
    def _valid_phone(cls, v: str | None) -> str | None:
        if v is not None and not _PHONE.match(v):
            raise ValueError("手机号码应为11位数字")
        return v

    def __repr__(self) -> str:  # never show the ID or phone number
        return f"ResidentIn(household_id={self.household_id!r})"

    __str__ = __repr__


class ResidentUpdate(Input):
    labour_capacity: bool


class MoveOut(Input):
    moved_out_on: date
    reason: FreeText = Field(min_length=1, max_length=200)


class Resident(BaseModel):
    id: str
    household_id: str
    name: str
    national_id_masked: str
    phone_masked: str | None
    sex: Sex
    birth_date: date
    labour_capacity: bool
    status: str = Field(description="active 在册 / moved_out 已迁出")
    moved_out_on: date | None = None
    area_path: list[str]

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Resident:
        return cls(
            id=doc["_id"],
            household_id=doc["household_id"],
            name=doc["name"],
            national_id_masked=doc["national_id_masked"],
            phone_masked=doc.get("phone_masked"),
            sex=doc["sex"],
            birth_date=date.fromisoformat(doc["birth_date"]),
            labour_capacity=doc["labour_capacity"],
            status=doc["status"],
            moved_out_on=date.fromisoformat(doc["moved_out_on"]) if doc.get("moved_out_on") else None,
            area_path=doc["area_path"],
        )


Household.model_rebuild()


# =============================================================================================
# Community work

Doc = dict[str, Any]
_no_pii = refuse_pii


def minutes_between(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds() // 60))


@dataclass(frozen=True)
class Actor:
    """Who does something: the token's subject, name and the role they act in."""

    subject: str
    name: str
    role: str

    def to_doc(self) -> Doc:
        return {"subject": self.subject, "name": self.name, "role": self.role}

    @classmethod
    def from_doc(cls, d: Doc) -> Actor:
        return cls(subject=d["subject"], name=d.get("name", ""), role=d.get("role", ""))


SYSTEM = Actor(subject="system", name="期限监控", role="scheduler")


# --- staffing ----------------------------------------------------------------------------------


class StaffRole(StrEnum):
    GRID_WORKER = "grid_worker"
    BUILDING_HEAD = "building_head"
    COMMUNITY_CADRE = "community_cadre"
    PARTY_SECRETARY = "party_secretary"
    COUNTY_OFFICER = "county_officer"
    CITY_OFFICER = "city_officer"


STAFF_ROLE_LEVEL = {
    StaffRole.GRID_WORKER: Level.GRID,
    StaffRole.BUILDING_HEAD: Level.BUILDING,
    StaffRole.COMMUNITY_CADRE: Level.COMMUNITY,
    StaffRole.PARTY_SECRETARY: Level.COMMUNITY,
    StaffRole.COUNTY_OFFICER: Level.COUNTY,
    StaffRole.CITY_OFFICER: Level.CITY,
}

STAFF_ROLE_LABELS = {
    StaffRole.GRID_WORKER: "网格员",
    StaffRole.BUILDING_HEAD: "楼栋长",
    StaffRole.COMMUNITY_CADRE: "社区干部",
    StaffRole.PARTY_SECRETARY: "社区党组织书记",
    StaffRole.COUNTY_OFFICER: "县级后续扶持工作人员",
    StaffRole.CITY_OFFICER: "市级后续扶持工作人员",
}


def staff_id_for(role: StaffRole | str, area_code: str, subject: str) -> str:
    """One staff record per (role, area, user): assigning again reactivates it."""
    digest = hashlib.sha256(f"{role}|{area_code}|{subject}".encode()).hexdigest()
    return f"stf-{digest[:24]}"


class StaffIn(Input):
    subject: str = Field(min_length=1, max_length=100, description="该人员在统一身份认证中的用户标识(令牌 sub)")
    name: str = Field(min_length=1, max_length=50)
    role: StaffRole = Field(
        description="grid_worker 网格员(网格)/ building_head 楼栋长(楼栋)/ community_cadre 社区干部(社区)…"
    )
    area_code: str = Field(pattern=_CODE)

    _v_text = field_validator("subject", "name")(_no_pii)


class Staff(BaseModel):
    id: str
    subject: str
    name: str
    role: StaffRole
    role_label: str
    area_code: str
    area_level: Level
    area_path: list[str]
    active: bool
    assigned_at: datetime
    unassigned_at: datetime | None

    @classmethod
    def from_doc(cls, d: Doc) -> Staff:
        role = StaffRole(d["role"])
        return cls(
            id=d["_id"],
            subject=d["subject"],
            name=d["name"],
            role=role,
            role_label=STAFF_ROLE_LABELS[role],
            area_code=d["area_code"],
            area_level=d["area_level"],
            area_path=d["area_path"],
            active=d["active"],
            assigned_at=d["assigned_at"],
            unassigned_at=d.get("unassigned_at"),
        )


# --- party organisations -----------------------------------------------------------------------

# Which kind of organisation may sit under which (None: directly under the community).
PARTY_PARENT_KINDS: dict[PartyOrgKind, frozenset[PartyOrgKind | None]] = {
    PartyOrgKind.GENERAL_BRANCH: frozenset({None}),
    PartyOrgKind.BRANCH: frozenset({None, PartyOrgKind.GENERAL_BRANCH}),
    PartyOrgKind.GROUP: frozenset({PartyOrgKind.BRANCH}),
}
# At which area levels each kind is set up (楼栋党小组, 网格党支部 …).
PARTY_AREA_LEVELS: dict[PartyOrgKind, frozenset[Level]] = {
    PartyOrgKind.GENERAL_BRANCH: frozenset({Level.COMMUNITY}),
    PartyOrgKind.BRANCH: frozenset({Level.COMMUNITY, Level.GRID}),
    PartyOrgKind.GROUP: frozenset({Level.COMMUNITY, Level.GRID, Level.BUILDING}),
}


class PartyOrgIn(Input):
    name: str = Field(min_length=1, max_length=60)
    kind: PartyOrgKind = Field(description="general_branch 党总支 / branch 党支部 / group 党小组")
    community_code: str = Field(pattern=_CODE)
    area_code: str | None = Field(None, pattern=_CODE, description="设在社区、网格或楼栋;默认社区")
    parent_id: str | None = Field(None, max_length=64, description="上级党组织(党小组必填)")
    secretary_name: str | None = Field(None, min_length=1, max_length=50)
    members: int = Field(0, ge=0, le=100_000, description="党员人数")

    _v_name = field_validator("name", "secretary_name")(_no_pii)


class PartyOrg(BaseModel):
    id: str
    name: str
    kind: PartyOrgKind
    kind_label: str
    community_code: str
    area_code: str
    area_path: list[str]
    parent_id: str | None
    secretary_name: str | None
    members: int
    registered_at: datetime

    @classmethod
    def from_doc(cls, d: Doc) -> PartyOrg:
        kind = PartyOrgKind(d["kind"])
        return cls(
            id=d["_id"],
            name=d["name"],
            kind=kind,
            kind_label=PARTY_ORG_KIND_LABELS[kind],
            community_code=d["community_code"],
            area_code=d["area_code"],
            area_path=d["area_path"],
            parent_id=d.get("parent_id"),
            secretary_name=d.get("secretary_name"),
            members=d.get("members", 0),
            registered_at=d["registered_at"],
        )


# --- resident requests (四单): deadlines -------------------------------------------------------

DeadlineTable = dict[str, dict[str, dict[str, float]]]


class DeadlinePolicy:
    """Hours allowed for each step, by category and urgency: `table[category][urgency][step]`,
    falling back to `table["default"][urgency][step]`, which must be complete."""

    def __init__(self, table: DeadlineTable) -> None:
        default = table.get("default")
        if default is None:
            raise ValueError("request deadlines need a 'default' category")
        for category, by_urgency in table.items():
            if category != "default":
                RequestCategory(category)
            for urgency, by_step in by_urgency.items():
                Urgency(urgency)
                for step, hours in by_step.items():
                    RequestStep(step)
                    if not (isinstance(hours, int | float) and hours > 0 and math.isfinite(hours)):
                        raise ValueError(f"deadline {category}/{urgency}/{step} must be a positive number of hours")
        for urgency in Urgency:
            for step in RequestStep:
                if default.get(urgency, {}).get(step) is None:
                    raise ValueError(f"request deadlines: default/{urgency}/{step} is missing")
        self.table = table

    def hours(self, *, category: RequestCategory, urgency: Urgency, step: RequestStep) -> float:
        specific = self.table.get(category, {}).get(urgency, {}).get(step)
        return specific if specific is not None else self.table["default"][urgency][step]

    def due(self, *, category: RequestCategory, urgency: Urgency, step: RequestStep, start: datetime) -> datetime:
        return start + timedelta(hours=self.hours(category=category, urgency=urgency, step=step))


# --- resident requests (四单): the state machine -------------------------------------------------


class Command(StrEnum):
    DISPATCH = "dispatch"
    ACCEPT = "accept"
    RESOLVE = "resolve"
    RATE = "rate"
    REOPEN = "reopen"
    ESCALATE = "escalate"
    REPORT = "report"


COMMAND_LABELS = {
    Command.DISPATCH: "派单",
    Command.ACCEPT: "接单",
    Command.RESOLVE: "办结",
    Command.RATE: "评单",
    Command.REOPEN: "重新打开",
    Command.ESCALATE: "吹哨",
    Command.REPORT: "报到",
}

_S = RequestState
# The states each command may start from. Escalation and reporting keep the state.
LEGAL_FROM: dict[Command, frozenset[RequestState]] = {
    Command.DISPATCH: frozenset({_S.SUBMITTED, _S.REOPENED, _S.DISPATCHED}),
    Command.ACCEPT: frozenset({_S.DISPATCHED}),
    Command.RESOLVE: frozenset({_S.ACCEPTED}),
    Command.RATE: frozenset({_S.RESOLVED}),
    Command.REOPEN: frozenset({_S.CLOSED}),
    Command.ESCALATE: frozenset({_S.SUBMITTED, _S.REOPENED, _S.DISPATCHED, _S.ACCEPTED}),
    Command.REPORT: frozenset({_S.SUBMITTED, _S.REOPENED, _S.DISPATCHED, _S.ACCEPTED, _S.RESOLVED}),
}
TARGET: dict[Command, RequestState | None] = {
    Command.DISPATCH: _S.DISPATCHED,
    Command.ACCEPT: _S.ACCEPTED,
    Command.RESOLVE: _S.RESOLVED,
    Command.RATE: _S.CLOSED,
    Command.REOPEN: _S.REOPENED,
    Command.ESCALATE: None,
    Command.REPORT: None,
}
# The step whose deadline runs in each state.
STEP_OF_STATE: dict[RequestState, RequestStep | None] = {
    _S.SUBMITTED: RequestStep.DISPATCH,
    _S.REOPENED: RequestStep.DISPATCH,
    _S.DISPATCHED: RequestStep.ACCEPT,
    _S.ACCEPTED: RequestStep.RESOLVE,
    _S.RESOLVED: RequestStep.RATE,
    _S.CLOSED: None,
}


def next_level(level: EscalationLevel) -> EscalationLevel | None:
    """One level up the chain building → grid → community → town → county department."""
    i = ESCALATION_CHAIN.index(level)
    return ESCALATION_CHAIN[i + 1] if i + 1 < len(ESCALATION_CHAIN) else None


def state_conflict(state: RequestState, what: str) -> Conflict:
    return Conflict(f"该诉求当前状态为「{REQUEST_STATE_LABELS[state]}」,不能{what}", field="state", state=state.value)


@dataclass(frozen=True)
class Assignee:
    staff_id: str
    subject: str
    name: str

    def to_doc(self) -> Doc:
        return {"staff_id": self.staff_id, "subject": self.subject, "name": self.name}

    @classmethod
    def from_doc(cls, d: Doc) -> Assignee:
        return cls(staff_id=d["staff_id"], subject=d["subject"], name=d["name"])


@dataclass(frozen=True)
class Rating:
    """党组织评单, and the figures of the closure it made (taken back if the request reopens)."""

    score: int
    comment: str | None
    party_org_id: str | None
    rated_by: Actor
    rated_at: datetime
    resolution_level: EscalationLevel
    minutes_to_close: int
    was_overdue: bool

    def to_doc(self) -> Doc:
        return {
            "score": self.score,
            "comment": self.comment,
            "party_org_id": self.party_org_id,
            "rated_by": self.rated_by.to_doc(),
            "rated_at": self.rated_at,
            "resolution_level": self.resolution_level.value,
            "minutes_to_close": self.minutes_to_close,
            "was_overdue": self.was_overdue,
        }

    @classmethod
    def from_doc(cls, d: Doc) -> Rating:
        return cls(
            score=d["score"],
            comment=d.get("comment"),
            party_org_id=d.get("party_org_id"),
            rated_by=Actor.from_doc(d["rated_by"]),
            rated_at=d["rated_at"],
            resolution_level=EscalationLevel(d["resolution_level"]),
            minutes_to_close=d["minutes_to_close"],
            was_overdue=d["was_overdue"],
        )


def _opt(d: Doc, key: str) -> Any:
    return d.get(key)


@dataclass
class RequestCase:
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
    history: list[Doc] = field(default_factory=list)
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
                "by": by.to_doc(),
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
        self._log("dispatch", by, now, before, assignee=assignee.to_doc())
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
        self._log("reopen", by, now, before, reason=reason, previous_rating=closure.to_doc())
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
        self.events.append(
            RequestEscalated(
                request_id=self.id,
                category=self.category,
                state=self.state,
                from_level=before_level,
                to_level=self.level,
                manual=True,
                department=department,
                department_label=COUNTY_DEPARTMENT_LABELS[department],
                due_at=self.step_deadline_at,
                report_due_at=self.report_due_at,
            )
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
                self.step_deadline_at = self._due(step, now, policy)
                up = next_level(self.level)
                if up is not None:
                    before_level, self.level = self.level, up
                    self._log("escalate", SYSTEM, now, self.state, step=step.value)
                    self.events.append(
                        RequestEscalated(
                            request_id=self.id,
                            category=self.category,
                            state=self.state,
                            from_level=before_level,
                            to_level=up,
                            manual=False,
                            step=step,
                            due_at=self.step_deadline_at,
                        )
                    )
            changed = True
        return changed

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

    # --- persistence ---------------------------------------------------------------------
    def to_doc(self) -> Doc:
        doc: Doc = {
            "_id": self.id,
            "category": self.category.value,
            "urgency": self.urgency.value,
            "source": self.source.value,
            "description": self.description,
            "household_id": self.household_id,
            "community_code": self.community_code,
            "grid_code": self.grid_code,
            "building_code": self.building_code,
            "area_path": list(self.area_path),
            "submitted_at": self.submitted_at,
            "submitted_by": self.submitted_by.to_doc(),
            "state": self.state.value,
            "level": self.level.value,
            "version": self.version,
            "assignee": self.assignee.to_doc() if self.assignee else None,
            "dispatched_at": self.dispatched_at,
            "accepted_at": self.accepted_at,
            "resolved_at": self.resolved_at,
            "closed_at": self.closed_at,
            "step_deadline_at": self.step_deadline_at,
            "department": self.department.value if self.department else None,
            "whistled_at": self.whistled_at,
            "report_due_at": self.report_due_at,
            "reported_at": self.reported_at,
            "report_overdue": self.report_overdue,
            "overdue_count": self.overdue_count,
            "resolution_level": self.resolution_level.value if self.resolution_level else None,
            "resolution_summary": self.resolution_summary,
            "rating": self.rating.to_doc() if self.rating else None,
            "reopen_count": self.reopen_count,
            "history": self.history,
        }
        nxt = self.next_deadline_at
        if nxt is not None:  # absent rather than null: the deadline index holds only what is watched
            doc["next_deadline_at"] = nxt
        return doc

    @classmethod
    def from_doc(cls, d: Doc) -> RequestCase:
        return cls(
            id=d["_id"],
            category=RequestCategory(d["category"]),
            urgency=Urgency(d["urgency"]),
            source=RequestSource(d["source"]),
            description=d["description"],
            household_id=d.get("household_id"),
            community_code=d["community_code"],
            grid_code=d["grid_code"],
            building_code=d["building_code"],
            area_path=list(d["area_path"]),
            submitted_at=d["submitted_at"],
            submitted_by=Actor.from_doc(d["submitted_by"]),
            state=RequestState(d["state"]),
            level=EscalationLevel(d["level"]),
            version=d["version"],
            assignee=Assignee.from_doc(d["assignee"]) if d.get("assignee") else None,
            dispatched_at=_opt(d, "dispatched_at"),
            accepted_at=_opt(d, "accepted_at"),
            resolved_at=_opt(d, "resolved_at"),
            closed_at=_opt(d, "closed_at"),
            step_deadline_at=_opt(d, "step_deadline_at"),
            department=CountyDepartment(d["department"]) if d.get("department") else None,
            whistled_at=_opt(d, "whistled_at"),
            report_due_at=_opt(d, "report_due_at"),
            reported_at=_opt(d, "reported_at"),
            report_overdue=d.get("report_overdue", False),
            overdue_count=d.get("overdue_count", 0),
            resolution_level=EscalationLevel(d["resolution_level"]) if d.get("resolution_level") else None,
            resolution_summary=d.get("resolution_summary"),
            rating=Rating.from_doc(d["rating"]) if d.get("rating") else None,
            reopen_count=d.get("reopen_count", 0),
            history=list(d.get("history", [])),
        )


# --- resident requests: API models -------------------------------------------------------------


class RequestIn(Input):
    category: RequestCategory = Field(description="诉求类别")
    description: str = Field(min_length=1, max_length=500)
    building_code: str = Field(pattern=_CODE, description="诉求所在楼栋")
    urgency: Urgency = Field(Urgency.GENERAL, description="general 一般 / urgent 紧急 / emergency 特急")
    source: RequestSource = Field(RequestSource.RESIDENT, description="resident 群众点单(干部代录)/ cadre 干部走访发现")
    household_id: str | None = Field(None, max_length=64)

    _v_text = field_validator("description")(_no_pii)


class DispatchIn(Input):
    staff_id: str = Field(min_length=1, max_length=64, description="本网格网格员的人员编号")


class ResolveIn(Input):
    summary: str = Field(min_length=1, max_length=500, description="办理结果")

    _v_text = field_validator("summary")(_no_pii)


class RateIn(Input):
    score: int = Field(ge=1, le=5, description="评分 1–5")
    comment: str | None = Field(None, max_length=300)
    party_org_id: str | None = Field(None, max_length=64, description="评单的党组织;默认该社区的党总支(党支部)")

    _v_text = field_validator("comment")(_no_pii)


class ReopenIn(Input):
    reason: str = Field(min_length=1, max_length=300, description="群众的异议")

    _v_text = field_validator("reason")(_no_pii)


class EscalateIn(Input):
    department: CountyDepartment = Field(
        description="吹哨的县直部门:human_resources 县人社局 / civil_affairs 县民政局 …"
    )
    reason: str = Field(min_length=1, max_length=300)

    _v_text = field_validator("reason")(_no_pii)


class ReportIn(Input):
    note: str | None = Field(None, max_length=300)

    _v_text = field_validator("note")(_no_pii)


class RequestRatingOut(BaseModel):
    score: int
    comment: str | None
    party_org_id: str | None
    rated_by: str
    rated_at: datetime
    hours_to_close: float


class AssigneeOut(BaseModel):
    staff_id: str
    subject: str
    name: str


class ResidentRequest(BaseModel):
    id: str
    category: RequestCategory
    category_label: str
    urgency: Urgency
    urgency_label: str
    source: RequestSource
    source_label: str
    description: str
    household_id: str | None
    community_code: str
    grid_code: str
    building_code: str
    area_path: list[str]
    state: RequestState
    state_label: str
    level: EscalationLevel
    level_label: str
    version: int
    step: RequestStep | None
    step_label: str | None
    step_due_at: datetime | None
    assignee: AssigneeOut | None
    submitted_at: datetime
    dispatched_at: datetime | None
    accepted_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    department: CountyDepartment | None
    department_label: str | None
    whistled_at: datetime | None
    report_due_at: datetime | None
    reported_at: datetime | None
    overdue_count: int
    resolution_level: EscalationLevel | None
    resolution_summary: str | None
    rating: RequestRatingOut | None
    reopen_count: int
    history: list[dict[str, Any]]

    @classmethod
    def from_case(cls, c: RequestCase) -> ResidentRequest:
        rating = None
        if c.rating is not None:
            rating = RequestRatingOut(
                score=c.rating.score,
                comment=c.rating.comment,
                party_org_id=c.rating.party_org_id,
                rated_by=c.rating.rated_by.name or c.rating.rated_by.subject,
                rated_at=c.rating.rated_at,
                hours_to_close=round(c.rating.minutes_to_close / 60, 2),
            )
        return cls(
            id=c.id,
            category=c.category,
            category_label=REQUEST_CATEGORY_LABELS[c.category],
            urgency=c.urgency,
            urgency_label=URGENCY_LABELS[c.urgency],
            source=c.source,
            source_label=REQUEST_SOURCE_LABELS[c.source],
            description=c.description,
            household_id=c.household_id,
            community_code=c.community_code,
            grid_code=c.grid_code,
            building_code=c.building_code,
            area_path=c.area_path,
            state=c.state,
            state_label=REQUEST_STATE_LABELS[c.state],
            level=c.level,
            level_label=ESCALATION_LEVEL_LABELS[c.level],
            version=c.version,
            step=c.step,
            step_label=REQUEST_STEP_LABELS[c.step] if c.step else None,
            step_due_at=c.step_deadline_at,
            assignee=AssigneeOut(**c.assignee.to_doc()) if c.assignee else None,
            submitted_at=c.submitted_at,
            dispatched_at=c.dispatched_at,
            accepted_at=c.accepted_at,
            resolved_at=c.resolved_at,
            closed_at=c.closed_at,
            department=c.department,
            department_label=COUNTY_DEPARTMENT_LABELS[c.department] if c.department else None,
            whistled_at=c.whistled_at,
            report_due_at=c.report_due_at,
            reported_at=c.reported_at,
            overdue_count=c.overdue_count,
            resolution_level=c.resolution_level,
            resolution_summary=c.resolution_summary,
            rating=rating,
            reopen_count=c.reopen_count,
            history=[
                {k: v for k, v in h.items() if k != "by"} | {"by": h["by"].get("name") or h["by"]["subject"]}
                for h in c.history
            ],
        )


# --- disputes (矛盾纠纷调解) -----------------------------------------------------------------------


class DisputeState(StrEnum):
    OPEN = "open"
    CONCLUDED = "concluded"


DISPUTE_STATE_LABELS = {DisputeState.OPEN: "调解中", DisputeState.CONCLUDED: "已结案"}


class DisputePartyIn(Input):
    name: str = Field(min_length=1, max_length=50, description="只保存掩码")
    role: Literal["applicant", "respondent", "other"] = "applicant"
    national_id: str | None = Field(None, max_length=32, description="只保存掩码和密钥散列")
    phone: str | None = Field(None, max_length=20, description="只保存掩码和密钥散列")
    household_id: str | None = Field(None, max_length=64)

    @field_validator("national_id")
    @classmethod
    def _valid_id(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            parse_national_id(v)
        except InvalidNationalId as exc:
            raise ValueError(str(exc)) from None
        return v.strip().upper()

    @field_validator("phone")
    @classmethod
    def _valid_phone(cls, v: str | None) -> str | None:
        if v is not None and not _PHONE.match(v):
            raise ValueError("手机号码应为11位数字")
        return v

    def __repr__(self) -> str:  # never show the ID or phone number
        return f"DisputePartyIn(role={self.role!r})"

    __str__ = __repr__


class DisputeIn(Input):
    kind: DisputeKind = Field(description="neighbourhood 邻里纠纷 / family 婚姻家庭 / property 物业 / labour 劳资 …")
    summary: str = Field(min_length=1, max_length=500)
    community_code: str = Field(pattern=_CODE)
    building_code: str | None = Field(None, pattern=_CODE)
    parties: list[DisputePartyIn] = Field(min_length=1, max_length=20)
    mediator_name: str = Field(min_length=1, max_length=50)
    mediator_subject: str | None = Field(None, max_length=100)
    due_in_days: int | None = Field(None, ge=1, le=90, description="调解期限(天);默认按配置")

    _v_text = field_validator("summary", "mediator_name", "mediator_subject")(_no_pii)


class SessionIn(Input):
    held_at: datetime | None = Field(None, description="默认为现在;不带时区时按北京时间")
    note: str = Field(min_length=1, max_length=500)

    _v_text = field_validator("note")(_no_pii)

    @field_validator("held_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        return v.replace(tzinfo=CHINA_TZ) if v is not None and v.tzinfo is None else v


class OutcomeIn(Input):
    outcome: DisputeOutcome = Field(description="mediated_successfully 调解成功 / failed 调解不成 / referred 移交")
    referred_to: str | None = Field(None, min_length=1, max_length=60, description="移交单位(移交时必填)")
    note: str | None = Field(None, max_length=500)

    _v_text = field_validator("note", "referred_to")(_no_pii)


@dataclass
class DisputeCase:
    """A dispute under mediation: open → concluded (调解成功 / 调解不成 / 移交), with a deadline."""

    id: str
    kind: DisputeKind
    summary: str
    community_code: str
    building_code: str | None
    area_path: list[str]
    parties: list[Doc]
    mediator_name: str
    mediator_subject: str | None
    registered_at: datetime
    registered_by: Actor
    due_at: datetime
    state: DisputeState = DisputeState.OPEN
    version: int = 1
    sessions: list[Doc] = field(default_factory=list)
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
        parties: list[Doc],
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
        if held_at > now:
            raise InvalidInput("调解时间不能晚于现在", field="held_at")
        self.sessions.append({"held_at": held_at, "note": note, "recorded_by": by.to_doc(), "recorded_at": now})

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

    def to_doc(self) -> Doc:
        doc: Doc = {
            "_id": self.id,
            "kind": self.kind.value,
            "summary": self.summary,
            "community_code": self.community_code,
            "building_code": self.building_code,
            "area_path": list(self.area_path),
            "parties": self.parties,
            "mediator_name": self.mediator_name,
            "mediator_subject": self.mediator_subject,
            "registered_at": self.registered_at,
            "registered_by": self.registered_by.to_doc(),
            "due_at": self.due_at,
            "state": self.state.value,
            "version": self.version,
            "sessions": self.sessions,
            "outcome": self.outcome.value if self.outcome else None,
            "referred_to": self.referred_to,
            "outcome_note": self.outcome_note,
            "concluded_at": self.concluded_at,
            "overdue": self.overdue,
        }
        if self.next_deadline_at is not None:
            doc["next_deadline_at"] = self.next_deadline_at
        return doc

    @classmethod
    def from_doc(cls, d: Doc) -> DisputeCase:
        return cls(
            id=d["_id"],
            kind=DisputeKind(d["kind"]),
            summary=d["summary"],
            community_code=d["community_code"],
            building_code=d.get("building_code"),
            area_path=list(d["area_path"]),
            parties=list(d["parties"]),
            mediator_name=d["mediator_name"],
            mediator_subject=d.get("mediator_subject"),
            registered_at=d["registered_at"],
            registered_by=Actor.from_doc(d["registered_by"]),
            due_at=d["due_at"],
            state=DisputeState(d["state"]),
            version=d["version"],
            sessions=list(d.get("sessions", [])),
            outcome=DisputeOutcome(d["outcome"]) if d.get("outcome") else None,
            referred_to=d.get("referred_to"),
            outcome_note=d.get("outcome_note"),
            concluded_at=d.get("concluded_at"),
            overdue=d.get("overdue", False),
        )


class DisputePartyOut(BaseModel):
    name_masked: str
    role: str
    national_id_masked: str | None
    phone_masked: str | None
    household_id: str | None


class DisputeSessionOut(BaseModel):
    held_at: datetime
    note: str
    recorded_by: str


class Dispute(BaseModel):
    id: str
    kind: DisputeKind
    kind_label: str
    summary: str
    community_code: str
    building_code: str | None
    area_path: list[str]
    parties: list[DisputePartyOut]
    mediator_name: str
    mediator_subject: str | None
    state: DisputeState
    state_label: str
    version: int
    sessions: list[DisputeSessionOut]
    outcome: DisputeOutcome | None
    outcome_label: str | None
    referred_to: str | None
    registered_at: datetime
    due_at: datetime
    concluded_at: datetime | None
    overdue: bool

    @classmethod
    def from_case(cls, c: DisputeCase) -> Dispute:
        return cls(
            id=c.id,
            kind=c.kind,
            kind_label=DISPUTE_KIND_LABELS[c.kind],
            summary=c.summary,
            community_code=c.community_code,
            building_code=c.building_code,
            area_path=c.area_path,
            parties=[
                DisputePartyOut(
                    name_masked=p["name_masked"],
                    role=p["role"],
                    national_id_masked=p.get("national_id_masked"),
                    phone_masked=p.get("phone_masked"),
                    household_id=p.get("household_id"),
                )
                for p in c.parties
            ],
            mediator_name=c.mediator_name,
            mediator_subject=c.mediator_subject,
            state=c.state,
            state_label=DISPUTE_STATE_LABELS[c.state],
            version=c.version,
            sessions=[
                DisputeSessionOut(
                    held_at=s["held_at"],
                    note=s["note"],
                    recorded_by=s["recorded_by"].get("name") or s["recorded_by"]["subject"],
                )
                for s in c.sessions
            ],
            outcome=c.outcome,
            outcome_label=DISPUTE_OUTCOME_LABELS[c.outcome] if c.outcome else None,
            referred_to=c.referred_to,
            registered_at=c.registered_at,
            due_at=c.due_at,
            concluded_at=c.concluded_at,
            overdue=c.overdue,
        )


# --- door-to-door services (上门服务) ------------------------------------------------------------


class VisitIn(Input):
    household_id: str = Field(min_length=1, max_length=64)
    service: VisitService = Field(description="agency 帮代办 / policy 政策宣传 / care 走访慰问 / health 健康随访 …")
    description: str = Field(min_length=1, max_length=300)
    visited_on: date

    _v_text = field_validator("description")(_no_pii)


class Visit(BaseModel):
    id: str
    household_id: str
    service: VisitService
    service_label: str
    description: str
    visited_on: date
    visitor_subject: str
    visitor_name: str
    visitor_role: str
    area_path: list[str]
    recorded_at: datetime

    @classmethod
    def from_doc(cls, d: Doc) -> Visit:
        service = VisitService(d["service"])
        return cls(
            id=d["_id"],
            household_id=d["household_id"],
            service=service,
            service_label=VISIT_SERVICE_LABELS[service],
            description=d["description"],
            visited_on=date.fromisoformat(d["visited_on"]),
            visitor_subject=d["visitor"]["subject"],
            visitor_name=d["visitor"]["name"],
            visitor_role=d["visitor"]["role"],
            area_path=d["area_path"],
            recorded_at=d["recorded_at"],
        )


# --- points supermarket (积分超市) ---------------------------------------------------------------


class AwardIn(Input):
    household_id: str = Field(min_length=1, max_length=64)
    category: PointsCategory = Field(description="civility 文明创建 / filial 孝老爱亲 / volunteer 志愿服务 …")
    points: int = Field(ge=1, le=1000)
    reason: str = Field(min_length=1, max_length=200)
    request_key: str | None = Field(
        None, min_length=1, max_length=64, description="幂等键:同一户同一键只记一次(重试安全)"
    )

    _v_text = field_validator("reason")(_no_pii)


class RedeemIn(Input):
    household_id: str = Field(min_length=1, max_length=64)
    goods: str = Field(min_length=1, max_length=60, description="兑换物品")
    quantity: int = Field(1, ge=1, le=100)
    points: int = Field(ge=1, le=100_000, description="本次兑换共需积分")
    request_key: str | None = Field(
        None, min_length=1, max_length=64, description="幂等键:同一户同一键只兑换一次(重试安全)"
    )

    _v_text = field_validator("goods")(_no_pii)


def points_entry_id(household_id: str, request_key: str | None) -> str | None:
    if request_key is None:
        return None
    return "pts-" + hashlib.sha256(f"{household_id}|{request_key}".encode()).hexdigest()[:24]


class PointsEntry(BaseModel):
    id: str
    household_id: str
    kind: Literal["award", "redeem"]
    points: int = Field(description="正数为获得,负数为兑换")
    balance_after: int
    category: PointsCategory | None = None
    category_label: str | None = None
    reason: str | None = None
    goods: str | None = None
    quantity: int | None = None
    on: date
    by: str
    at: datetime

    @classmethod
    def from_doc(cls, d: Doc) -> PointsEntry:
        category = PointsCategory(d["category"]) if d.get("category") else None
        return cls(
            id=d["_id"],
            household_id=d["household_id"],
            kind=d["kind"],
            points=d["points"],
            balance_after=d["balance_after"],
            category=category,
            category_label=POINTS_CATEGORY_LABELS[category] if category else None,
            reason=d.get("reason"),
            goods=d.get("goods"),
            quantity=d.get("quantity"),
            on=date.fromisoformat(d["on"]),
            by=d["by"].get("name") or d["by"]["subject"],
            at=d["at"],
        )


class PointsAccount(BaseModel):
    household_id: str
    balance: int
    awarded_total: int
    redeemed_total: int
    area_path: list[str]
    entries: list[PointsEntry]
