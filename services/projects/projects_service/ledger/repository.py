"""Storage of the ledger (`ledger`): every payment, append-only; a reversal is a new entry with
the negated amount whose id is the original's id + "-R" (so a payment can be reversed only
once). Every write takes the unit of work's session."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from projects_service.ledger.domain import Entry
from projects_service.storage import Session
from relocation_shared.events.projects import PaymentKind, Recipient
from relocation_shared.mongo import Doc


def entry_to_doc(e: Entry) -> Doc:
    return {
        "_id": e.id,
        "kind": e.kind.value,
        "amount_fen": e.amount_fen,
        "reversal_of": e.reversal_of,
        "project_id": e.project_id,
        "project_kind": e.project_kind,
        "chain": e.chain,
        "source_id": e.source_id,
        "source_kind": e.source_kind,
        "source_kinds": list(e.source_kinds or []),
        "year": e.year,
        "recipient": e.recipient.value if e.recipient else None,
        "community_code": e.community_code,
        "household_id": e.household_id,
        "occurred_on": e.occurred_on.isoformat(),
        "memo": e.memo,
        "area_path": list(e.area_path),
        "aggregate_id": e.aggregate_id,
        "recorded_at": e.recorded_at,
        "recorded_by": e.recorded_by,
    }


def entry_from_doc(d: Doc) -> Entry:
    recipient = d.get("recipient")
    return Entry(
        id=d["_id"],
        kind=PaymentKind(d["kind"]),
        amount_fen=d["amount_fen"],
        occurred_on=date.fromisoformat(d["occurred_on"]),
        area_path=list(d["area_path"]),
        aggregate_id=d["aggregate_id"],
        recorded_at=d["recorded_at"],
        recorded_by=d["recorded_by"],
        project_id=d.get("project_id"),
        project_kind=d.get("project_kind"),
        chain=d.get("chain"),
        source_id=d.get("source_id"),
        source_kind=d.get("source_kind"),
        source_kinds=list(d.get("source_kinds") or []),
        year=d.get("year"),
        recipient=Recipient(recipient) if recipient else None,
        community_code=d.get("community_code"),
        household_id=d.get("household_id"),
        memo=d.get("memo"),
        reversal_of=d.get("reversal_of"),
    )


class LedgerStore(Protocol):
    async def append(self, entries: list[Entry], session: Session) -> None: ...
    async def get_entry(self, entry_id: str, session: Session = None) -> Doc | None: ...
    async def list_entries(self, *, project_id: str | None, community_code: str | None, limit: int) -> list[Doc]: ...


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.ledger.create_index([("project_id", ASCENDING), ("recorded_at", ASCENDING)], name="project")
    await db.ledger.create_index([("community_code", ASCENDING), ("recorded_at", ASCENDING)], name="community")
    await db.ledger.create_index([("area_path", ASCENDING)], name="area")


class MongoLedgerStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def append(self, entries: list[Entry], session: Session) -> None:
        if entries:
            await self.db.ledger.insert_many([entry_to_doc(e) for e in entries], session=session)

    async def get_entry(self, entry_id: str, session: Session = None) -> Doc | None:
        return await self.db.ledger.find_one({"_id": entry_id}, session=session)

    async def list_entries(self, *, project_id: str | None, community_code: str | None, limit: int) -> list[Doc]:
        """The latest entries of a project and/or a community, newest first."""
        query: Doc = {}
        if project_id:
            query["project_id"] = project_id
        if community_code:
            query["community_code"] = community_code
        return await self.db.ledger.find(query).sort("recorded_at", DESCENDING).limit(limit).to_list(limit)
