"""Request and response bodies of door-to-door services."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from governance_service.visits.domain import Visit as VisitRecord
from relocation_shared.batch import Input
from relocation_shared.events.community import VISIT_SERVICE_LABELS, VisitService
from relocation_shared.pii import FreeText


class VisitIn(Input):
    household_id: str = Field(min_length=1, max_length=64)
    service: VisitService = Field(description="agency 帮代办 / policy 政策宣传 / care 走访慰问 / health 健康随访 …")
    description: FreeText = Field(min_length=1, max_length=300)
    visited_on: date


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
    def of(cls, v: VisitRecord) -> Visit:
        return cls(
            id=v.id,
            household_id=v.household_id,
            service=v.service,
            service_label=VISIT_SERVICE_LABELS[v.service],
            description=v.description,
            visited_on=v.visited_on,
            visitor_subject=v.visitor.subject,
            visitor_name=v.visitor.name,
            visitor_role=v.visitor.role,
            area_path=v.area_path,
            recorded_at=v.recorded_at,
        )
