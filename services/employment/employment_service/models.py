"""Models of the labour-force ledger (就业需求台账) and the household employment aggregate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from relocation_shared.batch import Input
from relocation_shared.events.employment import HouseholdZeroEmploymentCleared, HouseholdZeroEmploymentRaised
from relocation_shared.events.envelope import EventPayload
from relocation_shared.events.vocab import EMPLOYMENT_TYPE_LABELS, EmploymentType
from relocation_shared.pii import FreeText


class EmploymentIn(Input):
    resident_id: str = Field(min_length=1, max_length=64)
    employment_type: EmploymentType = Field(
        description="out_of_province 省外务工 / in_province 省内县外 / local 县内就近就地 / "
        "assistance_workshop 帮扶车间 / public_welfare_post 公益性岗位 / self_employed 自主创业"
    )
    organised_export: bool = Field(False, description="是否有组织劳务输出")
    employer: FreeText = Field(min_length=1, max_length=100)
    destination: FreeText | None = Field(None, max_length=60)
    monthly_wage: int = Field(ge=0, le=200_000, description="月工资(元)")
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
    def from_doc(cls, d: dict[str, Any]) -> Spell:
        return cls(
            id=d["_id"],
            resident_id=d["resident_id"],
            household_id=d["household_id"],
            employment_type=d["employment_type"],
            employment_type_label=EMPLOYMENT_TYPE_LABELS[EmploymentType(d["employment_type"])],
            organised_export=d["organised_export"],
            employer=d["employer"],
            destination=d.get("destination"),
            monthly_wage=d["monthly_wage"],
            started_on=date.fromisoformat(d["started_on"]),
            ended_on=date.fromisoformat(d["ended_on"]) if d.get("ended_on") else None,
            end_reason=d.get("end_reason"),
            open=d["open"],
            area_path=d["area_path"],
        )


class Training(BaseModel):
    id: str
    resident_id: str
    household_id: str
    course: str
    hours: float
    certificate: str | None
    completed_on: date
    area_path: list[str]

    @classmethod
    def from_doc(cls, d: dict[str, Any]) -> Training:
        return cls(
            id=d["_id"],
            resident_id=d["resident_id"],
            household_id=d["household_id"],
            course=d["course"],
            hours=d["hours"],
            certificate=d.get("certificate"),
            completed_on=date.fromisoformat(d["completed_on"]),
            area_path=d["area_path"],
        )


class RosterResident(BaseModel):
    id: str
    household_id: str
    labour_capacity: bool
    active: bool
    open_spell_id: str | None
    area_path: list[str]

    @classmethod
    def from_doc(cls, d: dict[str, Any]) -> RosterResident:
        return cls(
            id=d["_id"],
            household_id=d["household_id"],
            labour_capacity=d["labour_capacity"],
            active=d["active"],
            open_spell_id=d.get("open_spell_id"),
            area_path=d["area_path"],
        )


class HouseholdEmployment(BaseModel):
    household_id: str
    area_path: list[str]
    labour_count: int
    employed_count: int
    zero_employment: bool = Field(description="零就业家庭:有劳动力且无人就业")
    zero_since: datetime | None

    @classmethod
    def from_doc(cls, d: dict[str, Any]) -> HouseholdEmployment:
        return cls(
            household_id=d["_id"],
            area_path=d["area_path"],
            labour_count=d["labour_count"],
            employed_count=d["employed_count"],
            zero_employment=d.get("zero_since") is not None,
            zero_since=d.get("zero_since"),
        )


@dataclass
class HouseholdLedger:
    """How many members of a household have labour capacity and how many of them work.

    A household with labour force and nobody employed is a zero-employment household (零就业
    家庭). `adjust` applies a change and returns the alert event it causes, if any: raised the
    moment the household reaches zero, cleared the moment it recovers (someone finds work, or
    it no longer has labour force)."""

    household_id: str
    labour_count: int = 0
    employed_count: int = 0
    zero_since: datetime | None = None
    events: list[EventPayload] = field(default_factory=list)

    @property
    def is_zero(self) -> bool:
        return self.labour_count > 0 and self.employed_count == 0

    def adjust(self, *, labour: int = 0, employed: int = 0, cause: str, now: datetime) -> EventPayload | None:
        labour_count = self.labour_count + labour
        employed_count = self.employed_count + employed
        if labour_count < 0 or employed_count < 0 or employed_count > labour_count:
            raise ValueError(
                f"household {self.household_id}: labour {labour_count}, employed {employed_count} is impossible"
            )
        self.labour_count, self.employed_count = labour_count, employed_count
        event: EventPayload | None = None
        if self.is_zero and self.zero_since is None:
            self.zero_since = now
            event = HouseholdZeroEmploymentRaised(
                household_id=self.household_id, labour_count=labour_count, since=now, cause=cause
            )
        elif not self.is_zero and self.zero_since is not None:
            event = HouseholdZeroEmploymentCleared(
                household_id=self.household_id,
                employed_count=employed_count,
                labour_count=labour_count,
                zero_since=self.zero_since,
                cleared_at=now,
                cause=cause,
            )
            self.zero_since = None
        if event is not None:
            self.events.append(event)
        return event
