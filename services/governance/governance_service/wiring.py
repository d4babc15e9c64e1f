"""The composition root: the stores and use-case services of the governance service, built
from a `Runtime` (its database, unit of work and clock). main.py's lifespan calls `build`;
tests and scripts may too."""

from __future__ import annotations

from dataclasses import dataclass

from pymongo.asynchronous.database import AsyncDatabase

from governance_service.community import CommunityServices
from governance_service.community import ensure_indexes as ensure_community_indexes
from governance_service.config import Settings
from governance_service.registry import repository as registry_repository
from governance_service.registry.repository import MongoRegistryStore
from governance_service.registry.service import RegistryService
from governance_service.requests.deadlines import DeadlinePolicy
from relocation_shared.idempotency import ensure_idempotency_indexes
from relocation_shared.mongo import Doc
from relocation_shared.runtime import Runtime


@dataclass(frozen=True)
class Wiring:
    registry: RegistryService
    community: CommunityServices


def build(runtime: Runtime, settings: Settings) -> Wiring:
    pii_key = settings.pii_hash_key.get_secret_value().encode()
    registry_store = MongoRegistryStore(runtime.db)  # the community work reads areas and households from it too
    registry = RegistryService(
        uow=runtime.uow,
        store=registry_store,
        pii_key=pii_key,
        clock=runtime.clock,
        batch_max=settings.batch_max_items,
    )
    community = CommunityServices.build(
        uow=runtime.uow,
        repo=registry_store,
        db=runtime.db,
        policy=DeadlinePolicy(settings.request_deadline_hours),
        pii_key=pii_key,
        dispute_deadline_days=settings.dispute_deadline_days,
        clock=runtime.clock,
        scan_interval_seconds=settings.deadline_scan_seconds,
        scan_batch=settings.deadline_scan_batch,
        scan_concurrency=settings.deadline_scan_concurrency,
        ledger_page=settings.points_ledger_page,
    )
    return Wiring(registry=registry, community=community)


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    """Every collection's indexes: the registry's, the community work's, the idempotency keys'."""
    await registry_repository.ensure_indexes(db)
    await ensure_community_indexes(db)
    await ensure_idempotency_indexes(db)
