"""The `points_accounts` (one per household: balance and totals) and `points_ledger` collections.
The balance changes only by `$inc`; a debit requires it to cover the points."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from governance_service.points.domain import LedgerEntry, PointsBalance
from governance_service.staff.domain import Actor
from relocation_shared.events.community import PointsCategory
from relocation_shared.mongo import Doc

Session = AsyncClientSession | None


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.points_ledger.create_index([("household_id", ASCENDING), ("at", ASCENDING)], name="household")


def entry_to_doc(e: LedgerEntry) -> Doc:
    doc: Doc = {
        "_id": e.id,
        "household_id": e.household_id,
        "kind": e.kind,
        "points": e.points,
        "balance_after": e.balance_after,
    }
    if e.kind == "award":
        doc |= {"category": e.category.value if e.category else None, "reason": e.reason}
    else:
        doc |= {"goods": e.goods, "quantity": e.quantity}
    return doc | {"on": e.on.isoformat(), "by": e.by.as_dict(), "at": e.at, "area_path": list(e.area_path)}


def entry_from_doc(d: Doc) -> LedgerEntry:
    return LedgerEntry(
        id=d["_id"],
        household_id=d["household_id"],
        kind=d["kind"],
        points=d["points"],
        balance_after=d["balance_after"],
        on=date.fromisoformat(d["on"]),
        by=Actor.from_dict(d["by"]),
        at=d["at"],
        area_path=list(d.get("area_path", [])),
        category=PointsCategory(d["category"]) if d.get("category") else None,
        reason=d.get("reason"),
        goods=d.get("goods"),
        quantity=d.get("quantity"),
    )


def balance_from_doc(d: Doc) -> PointsBalance:
    return PointsBalance(
        household_id=d["_id"],
        balance=d.get("balance", 0),
        awarded_total=d.get("awarded_total", 0),
        redeemed_total=d.get("redeemed_total", 0),
    )


class PointsStore(Protocol):
    async def balance(self, household_id: str, session: Session = None) -> PointsBalance | None: ...

    async def credit(
        self, household_id: str, points: int, *, area_path: list[str], session: Session = None
    ) -> PointsBalance: ...

    async def debit(self, household_id: str, points: int, session: Session = None) -> PointsBalance | None: ...

    async def get_entry(self, entry_id: str, session: Session = None) -> LedgerEntry | None: ...

    async def insert_entry(self, entry: LedgerEntry, session: Session = None) -> None: ...

    async def entries(self, household_id: str, *, limit: int) -> list[LedgerEntry]: ...


class MongoPointsStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def balance(self, household_id: str, session: Session = None) -> PointsBalance | None:
        doc = await self.db.points_accounts.find_one({"_id": household_id}, session=session)
        return balance_from_doc(doc) if doc is not None else None

    async def credit(
        self, household_id: str, points: int, *, area_path: list[str], session: Session = None
    ) -> PointsBalance:
        """Add points (opening the account on the first award); returns the account after."""
        doc = await self.db.points_accounts.find_one_and_update(
            {"_id": household_id},
            {
                "$inc": {"balance": points, "awarded_total": points},
                "$setOnInsert": {"redeemed_total": 0, "area_path": area_path},
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        assert doc is not None
        return balance_from_doc(doc)

    async def debit(self, household_id: str, points: int, session: Session = None) -> PointsBalance | None:
        """Take points only if the balance covers them (the guard against a negative balance and
        against two redemptions spending the same points); None when it does not."""
        doc = await self.db.points_accounts.find_one_and_update(
            {"_id": household_id, "balance": {"$gte": points}},
            {"$inc": {"balance": -points, "redeemed_total": points}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        return balance_from_doc(doc) if doc is not None else None

    async def get_entry(self, entry_id: str, session: Session = None) -> LedgerEntry | None:
        doc = await self.db.points_ledger.find_one({"_id": entry_id}, session=session)
        return entry_from_doc(doc) if doc is not None else None

    async def insert_entry(self, entry: LedgerEntry, session: Session = None) -> None:
        await self.db.points_ledger.insert_one(entry_to_doc(entry), session=session)

    async def entries(self, household_id: str, *, limit: int) -> list[LedgerEntry]:
        """The household's latest entries first."""
        cursor = self.db.points_ledger.find({"household_id": household_id}).sort("at", DESCENDING)
        return [entry_from_doc(d) for d in await cursor.limit(limit).to_list(limit)]
