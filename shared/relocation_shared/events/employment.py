"""Events of the employment service (the labour-force ledger): topic relocation.employment."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from relocation_shared.events.catalog import CATALOG
from relocation_shared.events.envelope import EventPayload
from relocation_shared.events.vocab import EmploymentType
from relocation_shared.topics import EMPLOYMENT


@CATALOG.event("employment.worker_employed", version=1, topic=EMPLOYMENT)
class WorkerEmployed(EventPayload):
    spell_id: str
    resident_id: str
    household_id: str
    employment_type: EmploymentType
    organised_export: bool
    employer: str
    destination: str | None = None
    monthly_wage: int = Field(ge=0, description="yuan per month")
    started_on: date


@CATALOG.event("employment.employment_ended", version=1, topic=EMPLOYMENT)
class EmploymentEnded(EventPayload):
    spell_id: str
    resident_id: str
    household_id: str
    employment_type: EmploymentType
    organised_export: bool
    monthly_wage: int = Field(ge=0)
    started_on: date
    ended_on: date
    reason: str


@CATALOG.event("employment.training_completed", version=1, topic=EMPLOYMENT)
class TrainingCompleted(EventPayload):
    training_id: str
    resident_id: str
    household_id: str
    course: str
    hours: float = Field(gt=0)
    certificate: str | None = None
    completed_on: date
    first_training: bool = Field(description="the resident's first recorded training (counts trained persons)")


@CATALOG.event("employment.household_zero_employment_raised", version=1, topic=EMPLOYMENT)
class HouseholdZeroEmploymentRaised(EventPayload):
    household_id: str
    labour_count: int = Field(ge=1)
    since: datetime
    cause: str


@CATALOG.event("employment.household_zero_employment_cleared", version=1, topic=EMPLOYMENT)
class HouseholdZeroEmploymentCleared(EventPayload):
    household_id: str
    employed_count: int = Field(ge=0)
    labour_count: int = Field(ge=0)
    zero_since: datetime
    cleared_at: datetime
    cause: str


@CATALOG.event("employment.household_labour_changed", version=1, topic=EMPLOYMENT)
class HouseholdLabourChanged(EventPayload):
    """The number of a household's members in the labour force changed (a labour-capable
    resident registered, lost or regained labour capacity, or moved out). The ledger is the
    one source of the labour-force figures, so they always agree with the employed counts."""

    household_id: str
    labour_count: int = Field(ge=0)
    previous_labour_count: int = Field(ge=0)
    employed_count: int = Field(ge=0)
