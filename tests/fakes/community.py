"""In-memory fakes of the community work's stores (staff, party organisations, requests,
disputes, visits, points), one per Protocol, over dicts of the documents the real stores keep
(the same mapping functions): same method names and parameters, sessions ignored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from governance_service.disputes import repository as disputes_repo
from governance_service.disputes.domain import DisputeCase, DisputeState
from governance_service.disputes.repository import DisputesStore, MongoDisputesStore
from governance_service.party import repository as party_repo
from governance_service.party.domain import PartyOrganisation
from governance_service.party.repository import MongoPartyStore, PartyStore
from governance_service.points import repository as points_repo
from governance_service.points.domain import LedgerEntry, PointsBalance
from governance_service.points.repository import MongoPointsStore, PointsStore
from governance_service.requests import repository as requests_repo
from governance_service.requests.domain import RequestCase
from governance_service.requests.repository import MongoRequestsStore, RequestsStore
from governance_service.staff import repository as staff_repo
from governance_service.staff.domain import StaffMember, StaffRole
from governance_service.staff.repository import MongoStaffStore, StaffStore
from governance_service.visits import repository as visits_repo
from governance_service.visits.domain import Visit
from governance_service.visits.repository import MongoVisitsStore, VisitsStore
from relocation_shared.events.requests import RequestState
from tests.fakes.collections import Doc, FakeCollections, _stored
from tests.fakes.registry import Pair


def _due(docs: dict[str, Doc], now: datetime, exclude: list[str], limit: int) -> list[str]:
    due = [d for d in docs.values() if d.get("next_deadline_at") is not None and d["next_deadline_at"] <= now]
    due = [d for d in due if d["_id"] not in exclude]
    due.sort(key=lambda d: (d["next_deadline_at"], d["_id"]))
    return [d["_id"] for d in due[:limit]]


def _compare_and_set(docs: dict[str, Doc], doc: Doc, expected_version: int) -> bool:
    """The real stores' versioned replace: written only over the version that was read."""
    current = docs.get(doc["_id"])
    if current is None or current["version"] != expected_version:
        return False
    docs[doc["_id"]] = _stored(doc)
    return True


class FakeStaffStore(FakeCollections):
    COLLECTIONS = ("staff",)

    async def get(self, staff_id: str, session: Any = None) -> StaffMember | None:
        doc = self._get("staff", staff_id)
        return staff_repo.from_doc(doc) if doc is not None else None

    async def save(self, member: StaffMember, session: Any = None) -> None:
        self.data["staff"][member.id] = _stored(staff_repo.to_doc(member))

    async def in_area(
        self, area_code: str, *, role: StaffRole | None, active_only: bool, limit: int
    ) -> list[StaffMember]:
        def wanted(d: Doc) -> bool:
            return (
                area_code in d["area_path"] and (role is None or d["role"] == role) and (d["active"] or not active_only)
            )

        return [staff_repo.from_doc(d) for d in self._sorted("staff", wanted, "_id")[:limit]]


class FakePartyStore(FakeCollections):
    COLLECTIONS = ("party_orgs",)

    async def insert(self, org: PartyOrganisation, session: Any = None) -> None:
        self._insert("party_orgs", party_repo.to_doc(org))

    async def get(self, org_id: str, session: Any = None) -> PartyOrganisation | None:
        doc = self._get("party_orgs", org_id)
        return party_repo.from_doc(doc) if doc is not None else None

    async def in_community(self, community_code: str, session: Any = None) -> list[PartyOrganisation]:
        docs = self._sorted("party_orgs", lambda d: d["community_code"] == community_code, "_id")
        return [party_repo.from_doc(d) for d in docs]


class FakeRequestsStore(FakeCollections):
    COLLECTIONS = ("requests",)

    def __init__(self) -> None:
        super().__init__()
        self.broken: set[str] = set()  # ids whose reads fail, as a database error would
        self.on_read: Callable[[str], None] | None = None  # a concurrent writer, between query and read

    @property
    def docs(self) -> dict[str, Doc]:
        return self.data["requests"]

    async def insert(self, case: RequestCase, session: Any = None) -> None:
        self._insert("requests", requests_repo.to_doc(case))

    async def get(self, request_id: str, session: Any = None) -> RequestCase | None:
        if request_id in self.broken:
            raise RuntimeError(f"cannot read {request_id}")
        if self.on_read is not None:
            self.on_read(request_id)
        doc = self._get("requests", request_id)
        return requests_repo.from_doc(doc) if doc is not None else None

    async def save(self, case: RequestCase, *, expected_version: int, session: Any = None) -> bool:
        return _compare_and_set(self.docs, requests_repo.to_doc(case), expected_version)

    async def in_area(
        self, area_code: str, *, state: RequestState | None, overdue: bool | None, after: str | None, limit: int
    ) -> list[RequestCase]:
        def wanted(d: Doc) -> bool:
            late = d["overdue_count"] > 0
            return (
                area_code in d["area_path"]
                and (state is None or d["state"] == state)
                and (overdue is None or late is overdue)
                and (after is None or d["_id"] > after)
            )

        return [requests_repo.from_doc(d) for d in self._sorted("requests", wanted, "_id")[:limit]]

    async def due_ids(self, now: datetime, *, exclude: list[str], limit: int) -> list[str]:
        return _due(self.docs, now, exclude, limit)


class FakeDisputesStore(FakeCollections):
    COLLECTIONS = ("disputes",)

    @property
    def docs(self) -> dict[str, Doc]:
        return self.data["disputes"]

    async def insert(self, case: DisputeCase, session: Any = None) -> None:
        self._insert("disputes", disputes_repo.to_doc(case))

    async def get(self, dispute_id: str, session: Any = None) -> DisputeCase | None:
        doc = self._get("disputes", dispute_id)
        return disputes_repo.from_doc(doc) if doc is not None else None

    async def save(self, case: DisputeCase, *, expected_version: int, session: Any = None) -> bool:
        return _compare_and_set(self.docs, disputes_repo.to_doc(case), expected_version)

    async def in_area(
        self, area_code: str, *, state: DisputeState | None, after: str | None, limit: int
    ) -> list[DisputeCase]:
        def wanted(d: Doc) -> bool:
            return (
                area_code in d["area_path"]
                and (state is None or d["state"] == state)
                and (after is None or d["_id"] > after)
            )

        return [disputes_repo.from_doc(d) for d in self._sorted("disputes", wanted, "_id")[:limit]]

    async def due_ids(self, now: datetime, *, exclude: list[str], limit: int) -> list[str]:
        return _due(self.docs, now, exclude, limit)


class FakeVisitsStore(FakeCollections):
    COLLECTIONS = ("visits",)

    async def insert(self, visit: Visit, session: Any = None) -> None:
        self._insert("visits", visits_repo.to_doc(visit))

    async def get(self, visit_id: str) -> Visit | None:
        doc = self._get("visits", visit_id)
        return visits_repo.from_doc(doc) if doc is not None else None

    async def in_area(
        self, area_code: str, *, since: date | None, until: date | None, after: str | None, limit: int
    ) -> list[Visit]:
        def wanted(d: Doc) -> bool:
            return (
                area_code in d["area_path"]
                and (since is None or d["visited_on"] >= since.isoformat())
                and (until is None or d["visited_on"] <= until.isoformat())
                and (after is None or d["_id"] > after)
            )

        return [visits_repo.from_doc(d) for d in self._sorted("visits", wanted, "_id")[:limit]]


class FakePointsStore(FakeCollections):
    COLLECTIONS = ("points_accounts", "points_ledger")

    async def balance(self, household_id: str, session: Any = None) -> PointsBalance | None:
        doc = self._get("points_accounts", household_id)
        return points_repo.balance_from_doc(doc) if doc is not None else None

    async def credit(
        self, household_id: str, points: int, *, area_path: list[str], session: Any = None
    ) -> PointsBalance:
        doc = self.data["points_accounts"].setdefault(
            household_id,
            {"_id": household_id, "balance": 0, "awarded_total": 0, "redeemed_total": 0, "area_path": list(area_path)},
        )
        doc["balance"] += points
        doc["awarded_total"] += points
        return points_repo.balance_from_doc(doc)

    async def debit(self, household_id: str, points: int, session: Any = None) -> PointsBalance | None:
        doc = self.data["points_accounts"].get(household_id)
        if doc is None or doc["balance"] < points:  # the guard of the conditional update
            return None
        doc["balance"] -= points
        doc["redeemed_total"] += points
        return points_repo.balance_from_doc(doc)

    async def get_entry(self, entry_id: str, session: Any = None) -> LedgerEntry | None:
        doc = self._get("points_ledger", entry_id)
        return points_repo.entry_from_doc(doc) if doc is not None else None

    async def insert_entry(self, entry: LedgerEntry, session: Any = None) -> None:
        self._insert("points_ledger", points_repo.entry_to_doc(entry))

    async def entries(self, household_id: str, *, limit: int) -> list[LedgerEntry]:
        docs = self._sorted("points_ledger", lambda d: d["household_id"] == household_id, "at")
        return [points_repo.entry_from_doc(d) for d in reversed(docs)][:limit]


PAIRS = [
    Pair(protocol=StaffStore, real=MongoStaffStore, fake=FakeStaffStore),
    Pair(protocol=PartyStore, real=MongoPartyStore, fake=FakePartyStore),
    Pair(protocol=RequestsStore, real=MongoRequestsStore, fake=FakeRequestsStore),
    Pair(protocol=DisputesStore, real=MongoDisputesStore, fake=FakeDisputesStore),
    Pair(protocol=VisitsStore, real=MongoVisitsStore, fake=FakeVisitsStore),
    Pair(protocol=PointsStore, real=MongoPointsStore, fake=FakePointsStore),
]
