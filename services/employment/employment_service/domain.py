"""The rules of the labour-force ledger (就业需求台账), free of storage and HTTP.

- the roster's residents (`Worker`): who counts in the labour force, who has moved out;
- employment spells (`EmploymentSpell`): one open spell per worker at most, never starting or
  ending after today, never ending before it started;
- trainings (`TrainingRecord`): the first one of a resident is flagged as such;
- the household ledger (`HouseholdLedger`): labour and employed counts and the zero-employment
  alert (零就业家庭) they raise and clear."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from relocation_shared.auth import Principal
from relocation_shared.dates import plausible_day
from relocation_shared.errors import Conflict, InvalidInput, NotFound
from relocation_shared.events.employment import (
    EmploymentEnded,
    HouseholdLabourChanged,
    HouseholdZeroEmploymentCleared,
    HouseholdZeroEmploymentRaised,
    TrainingCompleted,
    WorkerEmployed,
)
from relocation_shared.events.envelope import EventPayload
from relocation_shared.events.vocab import EmploymentType

END_MOVED_OUT = "迁出"
END_LABOUR_LOST = "丧失劳动能力"


# --- the roster ----------------------------------------------------------------------------------


@dataclass
class Worker:
    """A resident of the roster, as the registry's events made them."""

    id: str
    household_id: str
    area_path: list[str]
    labour_capacity: bool
    active: bool = True
    open_spell_id: str | None = None
    trained: bool = False


def check_worker(principal: Principal, worker: Worker | None) -> Worker:
    """The resident may be employed by this principal: known, in their area, not moved out, in
    the labour force."""
    if worker is None:
        raise NotFound("居民不存在或尚未同步到就业台账", field="resident_id")
    principal.require_area(worker.area_path, field="resident_id")
    if not worker.active:
        raise Conflict("该居民已迁出", field="resident_id")
    if not worker.labour_capacity:
        raise InvalidInput("该居民无劳动能力,不属于劳动力", field="resident_id")
    return worker


def check_trainee(principal: Principal, worker: Worker | None, completed_on: date, today: date) -> Worker:
    """The resident's training may be recorded by this principal (labour capacity not needed)."""
    if worker is None:
        raise NotFound("居民不存在或尚未同步到就业台账", field="resident_id")
    principal.require_area(worker.area_path, field="resident_id")
    if not worker.active:
        raise Conflict("该居民已迁出", field="resident_id")
    plausible_day(completed_on, today=today, field="completed_on", what="结业日期")
    return worker


# --- employment spells ---------------------------------------------------------------------------


def check_start(started_on: date, today: date) -> None:
    plausible_day(started_on, today=today, field="started_on", what="开始日期")


@dataclass
class EmploymentSpell:
    """One period of work of a worker (就业记录); open until it is ended."""

    id: str
    resident_id: str
    household_id: str
    area_path: list[str]
    employment_type: EmploymentType
    organised_export: bool
    employer: str
    destination: str | None
    monthly_wage: int
    started_on: date
    ended_on: date | None = None
    end_reason: str | None = None
    open: bool = True
    recorded_by: str | None = None

    def check_end(self, ended_on: date, today: date) -> None:
        """Whether the spell may be ended on `ended_on` (by hand, through the API)."""
        if not self.open:
            raise Conflict("该就业记录已结束", field="spell_id", state="ended")
        if ended_on < self.started_on:
            raise InvalidInput("结束日期早于开始日期", field="ended_on", started_on=self.started_on.isoformat())
        plausible_day(ended_on, today=today, field="ended_on", what="结束日期")

    def employed(self) -> WorkerEmployed:
        return WorkerEmployed(
            spell_id=self.id,
            resident_id=self.resident_id,
            household_id=self.household_id,
            employment_type=self.employment_type,
            organised_export=self.organised_export,
            employer=self.employer,
            destination=self.destination,
            monthly_wage=self.monthly_wage,
            started_on=self.started_on,
        )

    def ended(self, *, ended_on: date, reason: str) -> EmploymentEnded:
        return EmploymentEnded(
            spell_id=self.id,
            resident_id=self.resident_id,
            household_id=self.household_id,
            employment_type=self.employment_type,
            organised_export=self.organised_export,
            monthly_wage=self.monthly_wage,
            started_on=self.started_on,
            ended_on=ended_on,
            reason=reason,
        )


# --- trainings -----------------------------------------------------------------------------------


@dataclass
class TrainingRecord:
    id: str
    resident_id: str
    household_id: str
    area_path: list[str]
    course: str
    hours: float
    certificate: str | None
    completed_on: date

    def completed(self, *, first_training: bool) -> TrainingCompleted:
        return TrainingCompleted(
            training_id=self.id,
            resident_id=self.resident_id,
            household_id=self.household_id,
            course=self.course,
            hours=self.hours,
            certificate=self.certificate,
            completed_on=self.completed_on,
            first_training=first_training,
        )


# --- the household ledger ------------------------------------------------------------------------


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
    area_path: list[str] = field(default_factory=list)
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

    def change(self, *, labour: int = 0, employed: int = 0, cause: str, now: datetime) -> list[EventPayload]:
        """`adjust`, and the events the change means: `HouseholdLabourChanged` when the labour
        count moves, then the alert it raises or clears, if any."""
        previous_labour = self.labour_count
        alert = self.adjust(labour=labour, employed=employed, cause=cause, now=now)
        out: list[EventPayload] = []
        if labour:
            out.append(
                HouseholdLabourChanged(
                    household_id=self.household_id,
                    labour_count=self.labour_count,
                    previous_labour_count=previous_labour,
                    employed_count=self.employed_count,
                )
            )
        if alert is not None:
            out.append(alert)
        return out
