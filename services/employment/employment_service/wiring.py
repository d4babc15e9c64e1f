"""Composition root of the employment service: the repository and the use cases, built from a
`Runtime` (main.py's lifespan calls it; tests and scripts may too)."""

from __future__ import annotations

from dataclasses import dataclass

from employment_service.config import Settings
from employment_service.events import CONSUMED_TOPICS, handlers
from employment_service.repository import EmploymentRepository
from employment_service.service import EmploymentService
from relocation_shared.runtime import Runtime


@dataclass(frozen=True)
class Wiring:
    repo: EmploymentRepository
    service: EmploymentService


def build(runtime: Runtime, settings: Settings) -> Wiring:
    repo = EmploymentRepository(runtime.db)
    service = EmploymentService(uow=runtime.uow, repo=repo, clock=runtime.clock, batch_max=settings.batch_max_items)
    return Wiring(repo=repo, service=service)


def wire(runtime: Runtime, settings: Settings) -> Wiring:
    """`build`, and the roster's consumer of the registry's events registered on the runtime."""
    wiring = build(runtime, settings)
    runtime.consume(group_id=settings.consumer_group, topics=CONSUMED_TOPICS, handlers=handlers(wiring.service))
    return wiring
