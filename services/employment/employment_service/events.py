"""What the employment service publishes (topic relocation.employment) and consumes (the
registry's household and resident events, to keep its roster).

Every event is keyed by the household id, so a household's spells and its zero-employment
alerts reach consumers in the order they happened."""

from __future__ import annotations

from employment_service.service import EmploymentService
from relocation_shared.consumer import Handler
from relocation_shared.events.employment import (
    EmploymentEnded,
    HouseholdLabourChanged,
    HouseholdZeroEmploymentCleared,
    HouseholdZeroEmploymentRaised,
    TrainingCompleted,
    WorkerEmployed,
)
from relocation_shared.events.governance import (
    HouseholdRegistered,
    ResidentMovedOut,
    ResidentRegistered,
    ResidentUpdated,
)
from relocation_shared.topics import EMPLOYMENT, GOVERNANCE

TOPIC = EMPLOYMENT
CONSUMED_TOPICS = [GOVERNANCE]

PUBLISHES = (
    WorkerEmployed,
    EmploymentEnded,
    TrainingCompleted,
    HouseholdLabourChanged,
    HouseholdZeroEmploymentRaised,
    HouseholdZeroEmploymentCleared,
)


def handlers(service: EmploymentService) -> dict[str, Handler]:
    """Event type → the use case that folds it into the roster."""
    return {
        HouseholdRegistered.event_type: service.on_household_registered,
        ResidentRegistered.event_type: service.on_resident_registered,
        ResidentUpdated.event_type: service.on_resident_updated,
        ResidentMovedOut.event_type: service.on_resident_moved_out,
    }
