"""What the projects service publishes (topic relocation.projects) and consumes: the employment
service's spells (relocation.employment), so that the jobs a project creates are counted from
real employment records, and the registry's households (relocation.governance), so that a
dividend reaches only households of the project's communities.

Project events are keyed by the project id, collective-economy events by the community code,
so each aggregate's events reach consumers in the order they happened."""

from __future__ import annotations

from projects_service.jobs.service import JobsService
from relocation_shared.consumer import Handler
from relocation_shared.events.employment import EmploymentEnded, WorkerEmployed
from relocation_shared.events.governance import HouseholdRegistered
from relocation_shared.events.projects import (
    CollectiveAssetRecorded,
    CollectiveIncomeRecorded,
    DemonstrationChanged,
    DividendPaid,
    FundingSourceRegistered,
    FundsAllocated,
    FundsDisbursed,
    JobLinked,
    JobUnlinked,
    PaymentReversed,
    ProjectApproved,
    ProjectStatusChanged,
    SourceBudgetSet,
)
from relocation_shared.topics import EMPLOYMENT, GOVERNANCE, PROJECTS

TOPIC = PROJECTS
CONSUMED_TOPICS = [EMPLOYMENT, GOVERNANCE]

PUBLISHES = (
    FundingSourceRegistered,
    SourceBudgetSet,
    ProjectApproved,
    FundsAllocated,
    ProjectStatusChanged,
    DemonstrationChanged,
    FundsDisbursed,
    DividendPaid,
    CollectiveIncomeRecorded,
    CollectiveAssetRecorded,
    PaymentReversed,
    JobLinked,
    JobUnlinked,
)


def handlers(jobs: JobsService) -> dict[str, Handler]:
    """Event type → the use case that folds it into this service's copies (spells, households)."""
    return {
        WorkerEmployed.event_type: jobs.on_worker_employed,
        EmploymentEnded.event_type: jobs.on_employment_ended,
        HouseholdRegistered.event_type: jobs.on_household_registered,
    }
