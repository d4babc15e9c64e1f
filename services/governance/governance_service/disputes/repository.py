"""The `disputes` collection: a dispute is saved whole with a compare-and-set on its version;
open ones not yet overdue carry `next_deadline_at` for the deadline scheduler."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from governance_service.disputes.domain import DisputeCase, DisputeState
from governance_service.requests.repository import due_ids
from governance_service.staff.domain import Actor
from relocation_shared.events.disputes import DisputeKind, DisputeOutcome
from relocation_shared.mongo import Doc

Session = AsyncClientSession | None


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.disputes.create_index([("area_path", ASCENDING), ("_id", ASCENDING)], name="area_path")
    await db.disputes.create_index([("next_deadline_at", ASCENDING)], name="next_deadline", sparse=True)


def to_doc(case: DisputeCase) -> Doc:
    doc: Doc = {
        "_id": case.id,
        "kind": case.kind.value,
        "summary": case.summary,
        "community_code": case.community_code,
        "building_code": case.building_code,
        "area_path": list(case.area_path),
        "parties": case.parties,
        "mediator_name": case.mediator_name,
        "mediator_subject": case.mediator_subject,
        "registered_at": case.registered_at,
        "registered_by": case.registered_by.as_dict(),
        "due_at": case.due_at,
        "state": case.state.value,
        "version": case.version,
        "sessions": case.sessions,
        "outcome": case.outcome.value if case.outcome else None,
        "referred_to": case.referred_to,
        "outcome_note": case.outcome_note,
        "concluded_at": case.concluded_at,
        "overdue": case.overdue,
    }
    if case.next_deadline_at is not None:
        doc["next_deadline_at"] = case.next_deadline_at
    return doc


def from_doc(d: Doc) -> DisputeCase:
    return DisputeCase(
        id=d["_id"],
        kind=DisputeKind(d["kind"]),
        summary=d["summary"],
        community_code=d["community_code"],
        building_code=d.get("building_code"),
        area_path=list(d["area_path"]),
        parties=list(d["parties"]),
        mediator_name=d["mediator_name"],
        mediator_subject=d.get("mediator_subject"),
        registered_at=d["registered_at"],
        registered_by=Actor.from_dict(d["registered_by"]),
        due_at=d["due_at"],
        state=DisputeState(d["state"]),
        version=d["version"],
        sessions=list(d.get("sessions", [])),
        outcome=DisputeOutcome(d["outcome"]) if d.get("outcome") else None,
        referred_to=d.get("referred_to"),
        outcome_note=d.get("outcome_note"),
        concluded_at=d.get("concluded_at"),
        overdue=d.get("overdue", False),
    )


class DisputesStore(Protocol):
    async def insert(self, case: DisputeCase, session: Session = None) -> None: ...

    async def get(self, dispute_id: str, session: Session = None) -> DisputeCase | None: ...

    async def save(self, case: DisputeCase, *, expected_version: int, session: Session = None) -> bool: ...

    async def in_area(
        self, area_code: str, *, state: DisputeState | None, after: str | None, limit: int
    ) -> list[DisputeCase]: ...

    async def due_ids(self, now: datetime, *, exclude: list[str], limit: int) -> list[str]: ...


class MongoDisputesStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def insert(self, case: DisputeCase, session: Session = None) -> None:
        await self.db.disputes.insert_one(to_doc(case), session=session)

    async def get(self, dispute_id: str, session: Session = None) -> DisputeCase | None:
        doc = await self.db.disputes.find_one({"_id": dispute_id}, session=session)
        return from_doc(doc) if doc is not None else None

    async def save(self, case: DisputeCase, *, expected_version: int, session: Session = None) -> bool:
        """Compare-and-set: writes only if nobody changed the dispute since it was read."""
        result = await self.db.disputes.replace_one(
            {"_id": case.id, "version": expected_version}, to_doc(case), session=session
        )
        return result.modified_count == 1

    async def in_area(
        self, area_code: str, *, state: DisputeState | None, after: str | None, limit: int
    ) -> list[DisputeCase]:
        query: Doc = {"area_path": area_code}
        if state:
            query["state"] = state.value
        if after:
            query["_id"] = {"$gt": after}
        docs = await self.db.disputes.find(query).sort("_id", ASCENDING).limit(limit).to_list(limit)
        return [from_doc(d) for d in docs]

    async def due_ids(self, now: datetime, *, exclude: list[str], limit: int) -> list[str]:
        """Ids of the open disputes past their deadline, earliest first (the deadline index)."""
        return await due_ids(self.db.disputes, now, exclude=exclude, limit=limit)
