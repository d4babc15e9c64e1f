"""The community work of the governance service, put together: staffing, party organisations,
the 四单 resident requests and their deadline scheduler, disputes, door-to-door services and the
points supermarket. `CommunityServices.build` wires the use cases to their stores; `ROUTERS`
are the domains' HTTP routes; `ensure_indexes` creates the collections' indexes."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter
from pymongo.asynchronous.database import AsyncDatabase

from governance_service.disputes import api as disputes_api
from governance_service.disputes import repository as disputes_repository
from governance_service.disputes.repository import MongoDisputesStore
from governance_service.disputes.service import DisputeService
from governance_service.party import api as party_api
from governance_service.party import repository as party_repository
from governance_service.party.repository import MongoPartyStore
from governance_service.party.service import PartyService
from governance_service.points import api as points_api
from governance_service.points import repository as points_repository
from governance_service.points.repository import MongoPointsStore
from governance_service.points.service import PointsService
from governance_service.registry.repository import RegistryStore
from governance_service.requests import api as requests_api
from governance_service.requests import repository as requests_repository
from governance_service.requests.deadlines import DeadlinePolicy
from governance_service.requests.repository import MongoRequestsStore
from governance_service.requests.scheduler import DeadlineScheduler
from governance_service.requests.service import RequestService
from governance_service.staff import api as staff_api
from governance_service.staff import repository as staff_repository
from governance_service.staff.repository import MongoStaffStore
from governance_service.staff.service import StaffService
from governance_service.visits import api as visits_api
from governance_service.visits import repository as visits_repository
from governance_service.visits.repository import MongoVisitsStore
from governance_service.visits.service import VisitService
from relocation_shared.clock import Clock
from relocation_shared.mongo import Doc
from relocation_shared.outbox import UnitOfWork

ROUTERS: list[APIRouter] = [
    staff_api.router,
    party_api.router,
    requests_api.router,
    disputes_api.router,
    visits_api.router,
    points_api.router,
]


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    for repository in (
        staff_repository,
        party_repository,
        requests_repository,
        disputes_repository,
        visits_repository,
        points_repository,
    ):
        await repository.ensure_indexes(db)


@dataclass
class CommunityServices:
    staff: StaffService
    party: PartyService
    requests: RequestService
    disputes: DisputeService
    visits: VisitService
    points: PointsService
    scheduler: DeadlineScheduler

    @classmethod
    def build(
        cls,
        *,
        uow: UnitOfWork,
        repo: RegistryStore,
        db: AsyncDatabase[Doc],
        policy: DeadlinePolicy,
        pii_key: bytes,
        dispute_deadline_days: int = 30,
        clock: Clock,
        scan_interval_seconds: float = 15.0,
        scan_batch: int = 500,
        scan_concurrency: int = 8,
        ledger_page: int = 100,
    ) -> CommunityServices:
        """`repo` is the registry's store (areas and households are read through it); the
        community work's own stores are MongoDB ones over `db`."""
        staff, party = MongoStaffStore(db), MongoPartyStore(db)
        requests, disputes = MongoRequestsStore(db), MongoDisputesStore(db)
        return cls(
            staff=StaffService(uow=uow, staff=staff, registry=repo, clock=clock),
            party=PartyService(uow=uow, party=party, registry=repo, clock=clock),
            requests=RequestService(
                uow=uow, requests=requests, staff=staff, party=party, registry=repo, policy=policy, clock=clock
            ),
            disputes=DisputeService(
                uow=uow,
                disputes=disputes,
                registry=repo,
                pii_key=pii_key,
                deadline_days=dispute_deadline_days,
                clock=clock,
            ),
            visits=VisitService(uow=uow, visits=MongoVisitsStore(db), registry=repo, clock=clock),
            points=PointsService(
                uow=uow, points=MongoPointsStore(db), registry=repo, ledger_page=ledger_page, clock=clock
            ),
            scheduler=DeadlineScheduler(
                uow=uow,
                requests=requests,
                disputes=disputes,
                policy=policy,
                clock=clock,
                interval_seconds=scan_interval_seconds,
                batch=scan_batch,
                concurrency=scan_concurrency,
            ),
        )
