"""The composition root of the projects service: the repositories over a database (or fakes in
tests) and the use-case services of every domain, built once and handed to the routers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from projects_service.jobs import repository as jobs_repository
from projects_service.jobs.repository import JobsStore, MongoJobsStore
from projects_service.jobs.service import JobsService
from projects_service.ledger import repository as ledger_repository
from projects_service.ledger.collective import CollectiveService
from projects_service.ledger.repository import LedgerStore, MongoLedgerStore
from projects_service.ledger.reversal import ReversalService
from projects_service.ledger.service import LedgerService
from projects_service.projects import repository as projects_repository
from projects_service.projects.repository import MongoProjectsStore, ProjectsStore
from projects_service.projects.service import ProjectsService
from projects_service.reports.repository import MongoReportsStore, ReportsStore
from projects_service.reports.service import ReportsService
from projects_service.sources import repository as sources_repository
from projects_service.sources.repository import MongoSourcesStore, SourcesStore
from projects_service.sources.service import SourcesService
from relocation_shared.clock import Clock
from relocation_shared.idempotency import ensure_idempotency_indexes
from relocation_shared.mongo import Doc
from relocation_shared.outbox import UnitOfWork
from relocation_shared.runtime import Runtime


@dataclass(frozen=True)
class Stores:
    sources: SourcesStore
    projects: ProjectsStore
    ledger: LedgerStore
    jobs: JobsStore
    reports: ReportsStore


@dataclass(frozen=True)
class Services:
    sources: SourcesService
    projects: ProjectsService
    ledger: LedgerService
    collective: CollectiveService
    reversal: ReversalService
    jobs: JobsService
    reports: ReportsService

    def app_state(self) -> dict[str, Any]:
        """Each service under the name its router's `from_state` looks for."""
        return {
            "sources_service": self.sources,
            "projects_service": self.projects,
            "ledger_service": self.ledger,
            "collective_service": self.collective,
            "reversal_service": self.reversal,
            "jobs_service": self.jobs,
            "reports_service": self.reports,
        }

    def attach(self, app: FastAPI) -> None:
        for name, value in self.app_state().items():
            setattr(app.state, name, value)


def mongo_stores(db: AsyncDatabase[Doc]) -> Stores:
    return Stores(
        sources=MongoSourcesStore(db),
        projects=MongoProjectsStore(db),
        ledger=MongoLedgerStore(db),
        jobs=MongoJobsStore(db),
        reports=MongoReportsStore(db),
    )


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await sources_repository.ensure_indexes(db)
    await projects_repository.ensure_indexes(db)
    await ledger_repository.ensure_indexes(db)
    await jobs_repository.ensure_indexes(db)
    await ensure_idempotency_indexes(db)


def build_services(*, uow: UnitOfWork, stores: Stores, clock: Clock, batch_max: int = 500) -> Services:
    s = stores
    return Services(
        sources=SourcesService(uow=uow, sources=s.sources, clock=clock),
        projects=ProjectsService(uow=uow, projects=s.projects, sources=s.sources, clock=clock, batch_max=batch_max),
        ledger=LedgerService(
            uow=uow,
            ledger=s.ledger,
            projects=s.projects,
            sources=s.sources,
            jobs=s.jobs,
            clock=clock,
            batch_max=batch_max,
        ),
        collective=CollectiveService(
            uow=uow, ledger=s.ledger, projects=s.projects, sources=s.sources, jobs=s.jobs, clock=clock
        ),
        reversal=ReversalService(
            uow=uow, ledger=s.ledger, projects=s.projects, sources=s.sources, jobs=s.jobs, clock=clock
        ),
        jobs=JobsService(uow=uow, jobs=s.jobs, projects=s.projects, clock=clock, batch_max=batch_max),
        reports=ReportsService(reports=s.reports, projects=s.projects),
    )


def from_runtime(runtime: Runtime, *, batch_max: int = 500) -> Services:
    return build_services(uow=runtime.uow, stores=mongo_stores(runtime.db), clock=runtime.clock, batch_max=batch_max)
