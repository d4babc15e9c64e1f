"""Request and response bodies of the resident requests (四单)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from governance_service.requests.domain import RequestCase
from governance_service.staff.models import AREA_CODE
from relocation_shared.batch import Input
from relocation_shared.events.requests import (
    COUNTY_DEPARTMENT_LABELS,
    ESCALATION_LEVEL_LABELS,
    REQUEST_CATEGORY_LABELS,
    REQUEST_SOURCE_LABELS,
    REQUEST_STATE_LABELS,
    REQUEST_STEP_LABELS,
    URGENCY_LABELS,
    CountyDepartment,
    EscalationLevel,
    RequestCategory,
    RequestSource,
    RequestState,
    RequestStep,
    Urgency,
)
from relocation_shared.pii import FreeText


class RequestIn(Input):
    category: RequestCategory = Field(description="诉求类别")
    description: FreeText = Field(min_length=1, max_length=500)
    building_code: str = Field(pattern=AREA_CODE, description="诉求所在楼栋")
    urgency: Urgency = Field(Urgency.GENERAL, description="general 一般 / urgent 紧急 / emergency 特急")
    source: RequestSource = Field(RequestSource.RESIDENT, description="resident 群众点单(干部代录)/ cadre 干部走访发现")
    household_id: str | None = Field(None, max_length=64)


class DispatchIn(Input):
    staff_id: str = Field(min_length=1, max_length=64, description="本网格网格员的人员编号")


class ResolveIn(Input):
    summary: FreeText = Field(min_length=1, max_length=500, description="办理结果")


class RateIn(Input):
    score: int = Field(strict=True, ge=1, le=5, description="评分 1–5")
    comment: FreeText | None = Field(None, max_length=300)
    party_org_id: str | None = Field(None, max_length=64, description="评单的党组织;默认该社区的党总支(党支部)")


class ReopenIn(Input):
    reason: FreeText = Field(min_length=1, max_length=300, description="群众的异议")


class EscalateIn(Input):
    department: CountyDepartment = Field(
        description="吹哨的县直部门:human_resources 县人社局 / civil_affairs 县民政局 …"
    )
    reason: FreeText = Field(min_length=1, max_length=300)


class ReportIn(Input):
    note: FreeText | None = Field(None, max_length=300)


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
            assignee=AssigneeOut(**c.assignee.as_dict()) if c.assignee else None,
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
