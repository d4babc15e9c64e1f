"""Events of the 四单 resident requests (民情实事: 群众点单 → 社区派单 → 网格员接单 → 办结 →
党组织评单), their deadlines and escalation (building → grid → community → town → county
department; 镇街吹哨、部门报到): topic relocation.governance, keyed by request id.

A closed request says at which level it was resolved and how long it took, a reopened one
carries the figures of the closure it undoes, an overdue one whether it is the request's first.
Free text (descriptions, comments) never travels on the bus.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from relocation_shared.events.catalog import CATALOG
from relocation_shared.events.envelope import EventPayload
from relocation_shared.topics import GOVERNANCE

# --- vocabulary ---------------------------------------------------------------------------------


class RequestCategory(StrEnum):
    EMPLOYMENT = "employment"
    SOCIAL_SECURITY = "social_security"
    HOUSING = "housing"
    PROPERTY = "property"
    EDUCATION = "education"
    MEDICAL = "medical"
    PUBLIC_SECURITY = "public_security"
    ENVIRONMENT = "environment"
    CERTIFICATES = "certificates"
    OTHER = "other"


REQUEST_CATEGORY_LABELS = {
    RequestCategory.EMPLOYMENT: "就业创业",
    RequestCategory.SOCIAL_SECURITY: "社保低保",
    RequestCategory.HOUSING: "住房维修",
    RequestCategory.PROPERTY: "物业服务",
    RequestCategory.EDUCATION: "教育入学",
    RequestCategory.MEDICAL: "医疗卫生",
    RequestCategory.PUBLIC_SECURITY: "治安消防",
    RequestCategory.ENVIRONMENT: "环境卫生",
    RequestCategory.CERTIFICATES: "户籍证照与产权登记",
    RequestCategory.OTHER: "其他",
}


class Urgency(StrEnum):
    GENERAL = "general"
    URGENT = "urgent"
    EMERGENCY = "emergency"


URGENCY_LABELS = {Urgency.GENERAL: "一般", Urgency.URGENT: "紧急", Urgency.EMERGENCY: "特急"}


class RequestSource(StrEnum):
    RESIDENT = "resident"  # 群众点单, recorded by a cadre
    CADRE = "cadre"  # found by a cadre (入户走访)


REQUEST_SOURCE_LABELS = {RequestSource.RESIDENT: "群众点单", RequestSource.CADRE: "干部走访发现"}


class RequestState(StrEnum):
    SUBMITTED = "submitted"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


REQUEST_STATE_LABELS = {
    RequestState.SUBMITTED: "已点单,待派单",
    RequestState.DISPATCHED: "已派单,待接单",
    RequestState.ACCEPTED: "已接单,办理中",
    RequestState.RESOLVED: "已办结,待评单",
    RequestState.CLOSED: "已评单,已关闭",
    RequestState.REOPENED: "群众有异议,已重新打开,待派单",
}


class RequestStep(StrEnum):
    """The step a deadline watches."""

    DISPATCH = "dispatch"
    ACCEPT = "accept"
    RESOLVE = "resolve"
    RATE = "rate"
    REPORT = "report"


REQUEST_STEP_LABELS = {
    RequestStep.DISPATCH: "社区派单",
    RequestStep.ACCEPT: "网格员接单",
    RequestStep.RESOLVE: "办结",
    RequestStep.RATE: "党组织评单",
    RequestStep.REPORT: "部门报到",
}


class EscalationLevel(StrEnum):
    """Who answers for a request: 小事不出楼栋, 大事不出社区, then the town blows the whistle."""

    BUILDING = "building"
    GRID = "grid"
    COMMUNITY = "community"
    TOWN = "town"
    COUNTY_DEPARTMENT = "county_department"


ESCALATION_CHAIN: tuple[EscalationLevel, ...] = tuple(EscalationLevel)
LOW_LEVELS = frozenset({EscalationLevel.BUILDING, EscalationLevel.GRID})

ESCALATION_LEVEL_LABELS = {
    EscalationLevel.BUILDING: "楼栋",
    EscalationLevel.GRID: "网格",
    EscalationLevel.COMMUNITY: "社区",
    EscalationLevel.TOWN: "镇(街道)",
    EscalationLevel.COUNTY_DEPARTMENT: "县直部门",
}


class CountyDepartment(StrEnum):
    HUMAN_RESOURCES = "human_resources"
    CIVIL_AFFAIRS = "civil_affairs"
    HOUSING = "housing"
    PUBLIC_SECURITY = "public_security"
    HEALTH = "health"
    EDUCATION = "education"
    NATURAL_RESOURCES = "natural_resources"
    MEDICAL_INSURANCE = "medical_insurance"
    RURAL_REVITALISATION = "rural_revitalisation"


COUNTY_DEPARTMENT_LABELS = {
    CountyDepartment.HUMAN_RESOURCES: "县人社局",
    CountyDepartment.CIVIL_AFFAIRS: "县民政局",
    CountyDepartment.HOUSING: "县住建局",
    CountyDepartment.PUBLIC_SECURITY: "县公安局",
    CountyDepartment.HEALTH: "县卫健局",
    CountyDepartment.EDUCATION: "县教育局",
    CountyDepartment.NATURAL_RESOURCES: "县自然资源局",
    CountyDepartment.MEDICAL_INSURANCE: "县医保局",
    CountyDepartment.RURAL_REVITALISATION: "县乡村振兴局",
}


# --- resident requests (四单) ---------------------------------------------------------------------


@CATALOG.event("governance.request_submitted", version=1, topic=GOVERNANCE)
class RequestSubmitted(EventPayload):
    """群众点单. The request starts at building level (小事不出楼栋)."""

    request_id: str
    category: RequestCategory
    urgency: Urgency
    source: RequestSource
    household_id: str | None = None
    community_code: str
    grid_code: str
    building_code: str
    level: EscalationLevel
    submitted_at: datetime
    dispatch_due_at: datetime


@CATALOG.event("governance.request_dispatched", version=1, topic=GOVERNANCE)
class RequestDispatched(EventPayload):
    """社区派单 to a grid worker of the request's grid (again, if `redispatch`)."""

    request_id: str
    category: RequestCategory
    grid_code: str
    assignee_staff_id: str
    assignee_subject: str
    assignee_name_masked: str
    level: EscalationLevel
    redispatch: bool
    accept_due_at: datetime


@CATALOG.event("governance.request_accepted", version=1, topic=GOVERNANCE)
class RequestAccepted(EventPayload):
    """网格员接单."""

    request_id: str
    category: RequestCategory
    assignee_staff_id: str
    assignee_subject: str
    level: EscalationLevel
    accepted_at: datetime
    resolve_due_at: datetime


@CATALOG.event("governance.request_resolved", version=1, topic=GOVERNANCE)
class RequestResolved(EventPayload):
    """The assignee resolved it; it waits for the party organisation's rating."""

    request_id: str
    category: RequestCategory
    resolution_level: EscalationLevel
    resolved_low_level: bool = Field(description="resolved at building or grid level (小事不出楼栋、不出网格)")
    resolved_at: datetime
    minutes_to_resolve: int = Field(ge=0, description="from submission to resolution")
    was_overdue: bool
    reopen_count: int = Field(ge=0)
    rate_due_at: datetime


@CATALOG.event("governance.request_rated", version=1, topic=GOVERNANCE)
class RequestRated(EventPayload):
    """党组织评单: the request is closed (办结). Sum `minutes_to_close` and `score` for means."""

    request_id: str
    category: RequestCategory
    score: int = Field(ge=1, le=5)
    party_org_id: str | None
    resolution_level: EscalationLevel
    resolved_low_level: bool
    closed_at: datetime
    minutes_to_close: int = Field(ge=0, description="from submission to closure")
    hours_to_close: float = Field(ge=0, description="minutes_to_close / 60, rounded to 2 places")
    was_overdue: bool
    reopen_count: int = Field(ge=0)


@CATALOG.event("governance.request_reopened", version=1, topic=GOVERNANCE)
class RequestReopened(EventPayload):
    """The resident disputes the outcome: the closure is undone. `previous_*` are the figures of
    that closure (as its `RequestRated` carried them), so a counter can take them back."""

    request_id: str
    category: RequestCategory
    reopen_count: int = Field(ge=1)
    previous_score: int = Field(ge=1, le=5)
    previous_resolution_level: EscalationLevel
    previous_resolved_low_level: bool
    previous_minutes_to_close: int = Field(ge=0)
    previous_was_overdue: bool
    level: EscalationLevel
    dispatch_due_at: datetime


@CATALOG.event("governance.request_overdue", version=1, topic=GOVERNANCE)
class RequestOverdue(EventPayload):
    """A step missed its deadline. `first_overdue` is true once per request (count requests that
    were ever overdue with it); `overdue_count` counts every missed deadline of the request."""

    request_id: str
    category: RequestCategory
    urgency: Urgency
    state: RequestState
    step: RequestStep
    level: EscalationLevel
    deadline_at: datetime
    first_overdue: bool
    overdue_count: int = Field(ge=1)
    assignee_subject: str | None = None
    department: CountyDepartment | None = None


@CATALOG.event("governance.request_escalated", version=1, topic=GOVERNANCE)
class RequestEscalated(EventPayload):
    """One level up the chain after a missed deadline, or by hand (吹哨) straight to a named
    county department, which must report (报到) by `report_due_at`."""

    request_id: str
    category: RequestCategory
    state: RequestState
    from_level: EscalationLevel
    to_level: EscalationLevel
    manual: bool = Field(description="吹哨 by a cadre, rather than a missed deadline")
    step: RequestStep | None = Field(None, description="the step whose deadline was missed (automatic only)")
    department: CountyDepartment | None = None
    department_label: str | None = None
    due_at: datetime | None = Field(None, description="the step's new deadline")
    report_due_at: datetime | None = None


@CATALOG.event("governance.request_reported", version=1, topic=GOVERNANCE)
class RequestReported(EventPayload):
    """部门报到: the county department the whistle named has reported."""

    request_id: str
    category: RequestCategory
    department: CountyDepartment
    department_label: str
    reported_at: datetime
    minutes_to_report: int = Field(ge=0)
    on_time: bool
