"""Request and response bodies of dispute mediation. Parties' names, ID and phone numbers are
taken in and never given back: only their masked forms."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from governance_service.disputes.domain import DISPUTE_STATE_LABELS, DisputeCase, DisputeState
from governance_service.staff.models import AREA_CODE
from relocation_shared.batch import Input
from relocation_shared.clock import CHINA_TZ
from relocation_shared.events.disputes import DISPUTE_KIND_LABELS, DISPUTE_OUTCOME_LABELS, DisputeKind, DisputeOutcome
from relocation_shared.pii import FreeText, MobileNumber, NationalIdNumber, PersonName


class DisputePartyIn(Input):
    name: PersonName = Field(description="只保存掩码")
    role: Literal["applicant", "respondent", "other"] = "applicant"
    national_id: NationalIdNumber | None = None
    phone: MobileNumber | None = None
    household_id: str | None = Field(None, max_length=64)

    def __repr__(self) -> str:  # never show the ID or phone number
        return f"DisputePartyIn(role={self.role!r})"

    __str__ = __repr__


class DisputeIn(Input):
    kind: DisputeKind = Field(description="neighbourhood 邻里纠纷 / family 婚姻家庭 / property 物业 / labour 劳资 …")
    summary: FreeText = Field(min_length=1, max_length=500)
    community_code: str = Field(pattern=AREA_CODE)
    building_code: str | None = Field(None, pattern=AREA_CODE)
    parties: list[DisputePartyIn] = Field(min_length=1, max_length=20)
    mediator_name: PersonName
    mediator_subject: FreeText | None = Field(None, max_length=100)
    due_in_days: int | None = Field(None, strict=True, ge=1, le=90, description="调解期限(天);默认按配置")


class SessionIn(Input):
    held_at: datetime | None = Field(None, description="默认为现在;不带时区时按北京时间")
    note: FreeText = Field(min_length=1, max_length=500)

    @field_validator("held_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        return v.replace(tzinfo=CHINA_TZ) if v is not None and v.tzinfo is None else v


class OutcomeIn(Input):
    outcome: DisputeOutcome = Field(description="mediated_successfully 调解成功 / failed 调解不成 / referred 移交")
    referred_to: FreeText | None = Field(None, min_length=1, max_length=60, description="移交单位(移交时必填)")
    note: FreeText | None = Field(None, max_length=500)


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
