"""The `requests` collection: a request is saved whole with a compare-and-set on its version;
only watched requests carry `next_deadline_at`, which the sparse deadline index holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from governance_service.requests.domain import RequestCase
from governance_service.requests.values import Assignee, Rating
from governance_service.staff.domain import Actor
from relocation_shared.events.requests import (
    CountyDepartment,
    EscalationLevel,
    RequestCategory,
    RequestSource,
    RequestState,
    Urgency,
)
from relocation_shared.mongo import Doc

Session = AsyncClientSession | None


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.requests.create_index([("area_path", ASCENDING), ("_id", ASCENDING)], name="area_path")
    # only watched requests carry next_deadline_at: the scheduler's scan reads this index alone
    await db.requests.create_index([("next_deadline_at", ASCENDING)], name="next_deadline", sparse=True)


def _opt(d: Doc, key: str) -> Any:
    return d.get(key)


def rating_from_doc(d: Doc) -> Rating:
    return Rating(
        score=d["score"],
        comment=d.get("comment"),
        party_org_id=d.get("party_org_id"),
        rated_by=Actor.from_dict(d["rated_by"]),
        rated_at=d["rated_at"],
        resolution_level=EscalationLevel(d["resolution_level"]),
        minutes_to_close=d["minutes_to_close"],
        was_overdue=d["was_overdue"],
    )


def assignee_from_doc(d: Doc) -> Assignee:
    return Assignee(staff_id=d["staff_id"], subject=d["subject"], name=d["name"])


def to_doc(case: RequestCase) -> Doc:
    doc: Doc = {
        "_id": case.id,
        "category": case.category.value,
        "urgency": case.urgency.value,
        "source": case.source.value,
        "description": case.description,
        "household_id": case.household_id,
        "community_code": case.community_code,
        "grid_code": case.grid_code,
        "building_code": case.building_code,
        "area_path": list(case.area_path),
        "submitted_at": case.submitted_at,
        "submitted_by": case.submitted_by.as_dict(),
        "state": case.state.value,
        "level": case.level.value,
        "version": case.version,
        "assignee": case.assignee.as_dict() if case.assignee else None,
        "dispatched_at": case.dispatched_at,
        "accepted_at": case.accepted_at,
        "resolved_at": case.resolved_at,
        "closed_at": case.closed_at,
        "step_deadline_at": case.step_deadline_at,
        "department": case.department.value if case.department else None,
        "whistled_at": case.whistled_at,
        "report_due_at": case.report_due_at,
        "reported_at": case.reported_at,
        "report_overdue": case.report_overdue,
        "overdue_count": case.overdue_count,
        "resolution_level": case.resolution_level.value if case.resolution_level else None,
        "resolution_summary": case.resolution_summary,
        "rating": case.rating.as_dict() if case.rating else None,
        "reopen_count": case.reopen_count,
        "history": case.history,
    }
    nxt = case.next_deadline_at
    if nxt is not None:  # absent rather than null: the deadline index holds only what is watched
        doc["next_deadline_at"] = nxt
    return doc


def from_doc(d: Doc) -> RequestCase:
    return RequestCase(
        id=d["_id"],
        category=RequestCategory(d["category"]),
        urgency=Urgency(d["urgency"]),
        source=RequestSource(d["source"]),
        description=d["description"],
        household_id=d.get("household_id"),
        community_code=d["community_code"],
        grid_code=d["grid_code"],
        building_code=d["building_code"],
        area_path=list(d["area_path"]),
        submitted_at=d["submitted_at"],
        submitted_by=Actor.from_dict(d["submitted_by"]),
        state=RequestState(d["state"]),
        level=EscalationLevel(d["level"]),
        version=d["version"],
        assignee=assignee_from_doc(d["assignee"]) if d.get("assignee") else None,
        dispatched_at=_opt(d, "dispatched_at"),
        accepted_at=_opt(d, "accepted_at"),
        resolved_at=_opt(d, "resolved_at"),
        closed_at=_opt(d, "closed_at"),
        step_deadline_at=_opt(d, "step_deadline_at"),
        department=CountyDepartment(d["department"]) if d.get("department") else None,
        whistled_at=_opt(d, "whistled_at"),
        report_due_at=_opt(d, "report_due_at"),
        reported_at=_opt(d, "reported_at"),
        report_overdue=d.get("report_overdue", False),
        overdue_count=d.get("overdue_count", 0),
        resolution_level=EscalationLevel(d["resolution_level"]) if d.get("resolution_level") else None,
        resolution_summary=d.get("resolution_summary"),
        rating=rating_from_doc(d["rating"]) if d.get("rating") else None,
        reopen_count=d.get("reopen_count", 0),
        history=list(d.get("history", [])),
    )


class RequestsStore(Protocol):
    async def insert(self, case: RequestCase, session: Session = None) -> None: ...

    async def get(self, request_id: str, session: Session = None) -> RequestCase | None: ...

    async def save(self, case: RequestCase, *, expected_version: int, session: Session = None) -> bool: ...

    async def in_area(
        self, area_code: str, *, state: RequestState | None, overdue: bool | None, after: str | None, limit: int
    ) -> list[RequestCase]: ...

    async def due_ids(self, now: datetime, *, exclude: list[str], limit: int) -> list[str]: ...


class MongoRequestsStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def insert(self, case: RequestCase, session: Session = None) -> None:
        await self.db.requests.insert_one(to_doc(case), session=session)

    async def get(self, request_id: str, session: Session = None) -> RequestCase | None:
        doc = await self.db.requests.find_one({"_id": request_id}, session=session)
        return from_doc(doc) if doc is not None else None

    async def save(self, case: RequestCase, *, expected_version: int, session: Session = None) -> bool:
        """Compare-and-set: writes only if nobody changed the request since it was read."""
        result = await self.db.requests.replace_one(
            {"_id": case.id, "version": expected_version}, to_doc(case), session=session
        )
        return result.modified_count == 1

    async def in_area(
        self, area_code: str, *, state: RequestState | None, overdue: bool | None, after: str | None, limit: int
    ) -> list[RequestCase]:
        query: Doc = {"area_path": area_code}
        if state:
            query["state"] = state.value
        if overdue is not None:
            query["overdue_count"] = {"$gt": 0} if overdue else 0
        if after:
            query["_id"] = {"$gt": after}
        docs = await self.db.requests.find(query).sort("_id", ASCENDING).limit(limit).to_list(limit)
        return [from_doc(d) for d in docs]

    async def due_ids(self, now: datetime, *, exclude: list[str], limit: int) -> list[str]:
        """Ids of the requests whose next deadline has passed, earliest first (the deadline index)."""
        return await due_ids(self.db.requests, now, exclude=exclude, limit=limit)


async def due_ids(collection: AsyncCollection[Doc], now: datetime, *, exclude: list[str], limit: int) -> list[str]:
    """What the deadline scheduler reads from a collection's sparse `next_deadline_at` index."""
    query: Doc = {"next_deadline_at": {"$lte": now}}
    if exclude:
        query["_id"] = {"$nin": exclude}
    cursor = collection.find(query, {"_id": 1}).sort("next_deadline_at", ASCENDING).limit(limit)
    return [d["_id"] for d in await cursor.to_list(limit)]
