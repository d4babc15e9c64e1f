"""The `visits` collection (the visit day kept as an ISO date string, for range queries)."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from governance_service.staff.domain import Actor
from governance_service.visits.domain import Visit
from relocation_shared.events.community import VisitService
from relocation_shared.mongo import Doc

Session = AsyncClientSession | None


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.visits.create_index([("area_path", ASCENDING), ("visited_on", ASCENDING)], name="area_date")
    await db.visits.create_index([("household_id", ASCENDING)], name="household")


def to_doc(v: Visit) -> Doc:
    return {
        "_id": v.id,
        "household_id": v.household_id,
        "service": v.service.value,
        "description": v.description,
        "visited_on": v.visited_on.isoformat(),
        "visitor": v.visitor.as_dict(),
        "area_path": list(v.area_path),
        "recorded_at": v.recorded_at,
    }


def from_doc(d: Doc) -> Visit:
    return Visit(
        id=d["_id"],
        household_id=d["household_id"],
        service=VisitService(d["service"]),
        description=d["description"],
        visited_on=date.fromisoformat(d["visited_on"]),
        visitor=Actor.from_dict(d["visitor"]),
        area_path=list(d["area_path"]),
        recorded_at=d["recorded_at"],
    )


class VisitsStore(Protocol):
    async def insert(self, visit: Visit, session: Session = None) -> None: ...

    async def get(self, visit_id: str) -> Visit | None: ...

    async def in_area(
        self, area_code: str, *, since: date | None, until: date | None, after: str | None, limit: int
    ) -> list[Visit]: ...


class MongoVisitsStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def insert(self, visit: Visit, session: Session = None) -> None:
        await self.db.visits.insert_one(to_doc(visit), session=session)

    async def get(self, visit_id: str) -> Visit | None:
        doc = await self.db.visits.find_one({"_id": visit_id})
        return from_doc(doc) if doc is not None else None

    async def in_area(
        self, area_code: str, *, since: date | None, until: date | None, after: str | None, limit: int
    ) -> list[Visit]:
        """Visits under the area between two days (inclusive), by id."""
        query: Doc = {"area_path": area_code}
        span: Doc = {}
        if since:
            span["$gte"] = since.isoformat()
        if until:
            span["$lte"] = until.isoformat()
        if span:
            query["visited_on"] = span
        if after:
            query["_id"] = {"$gt": after}
        docs = await self.db.visits.find(query).sort("_id", ASCENDING).limit(limit).to_list(limit)
        return [from_doc(d) for d in docs]
