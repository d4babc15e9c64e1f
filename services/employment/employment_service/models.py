"""Request and response schemas of the labour-force ledger (就业需求台账)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from employment_service.domain import EmploymentSpell, HouseholdLedger
from relocation_shared.batch import Input
from relocation_shared.events.vocab import EMPLOYMENT_TYPE_LABELS, EmploymentType
from relocation_shared.pii import FreeText


class EmploymentIn(Input):
    resident_id: str = Field(min_length=1, max_length=64)
    employment_type: EmploymentType = Field(
        description="out_of_province 省外务工 / in_province 省内县外 / local 县内就近就地 / "
        "assistance_workshop 帮扶车间 / public_welfare_post 公益性岗位 / self_employed 自主创业"
    )
    organised_export: StrictBool = Field(False, description="是否有组织劳务输出")
    employer: FreeText = Field(min_length=1, max_length=100)
    destination: FreeText | None = Field(None, max_length=60)
    monthly_wage: int = Field(strict=True, ge=0, le=200_000, description="月工资(元)")
    started_on: date


class EndEmploymentIn(Input):
    ended_on: date
    reason: FreeText = Field(min_length=1, max_length=200)


class TrainingIn(Input):
    resident_id: str = Field(min_length=1, max_length=64)
    course: FreeText = Field(min_length=1, max_length=60)
    hours: float = Field(gt=0, le=2000, description="学时")
    certificate: FreeText | None = Field(None, max_length=60, description="所获证书")
    completed_on: date


class Spell(BaseModel):
    id: str
    resident_id: str
    household_id: str
    employment_type: EmploymentType
    employment_type_label: str
    organised_export: bool
    employer: str
    destination: str | None
    monthly_wage: int
    started_on: date
    ended_on: date | None
    end_reason: str | None
    open: bool
    area_path: list[str]

    @classmethod
    def of(cls, spell: EmploymentSpell) -> Spell:
        label = EMPLOYMENT_TYPE_LABELS[spell.employment_type]
        return cls.model_validate(asdict(spell) | {"employment_type_label": label})


class Training(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # Training.model_validate(training)

    id: str
    resident_id: str
    household_id: str
    course: str
    hours: float
    certificate: str | None
    completed_on: date
    area_path: list[str]


class RosterResident(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # RosterResident.model_validate(worker)

    id: str
    household_id: str
    labour_capacity: bool
    active: bool
    open_spell_id: str | None
    area_path: list[str]


class ResidentHistory(BaseModel):
    resident: RosterResident
    employments: list[Spell]
    trainings: list[Training]


class HouseholdEmployment(BaseModel):
    household_id: str
    area_path: list[str]
    labour_count: int
    employed_count: int
    zero_employment: bool = Field(description="零就业家庭:有劳动力且无人就业")
    zero_since: datetime | None

    @classmethod
    def of(cls, ledger: HouseholdLedger) -> HouseholdEmployment:
        return cls.model_validate(asdict(ledger) | {"zero_employment": ledger.zero_since is not None})
