"""Storage of funding sources (`sources`) and their yearly budgets (`budgets`, one per source
and year: budget, disbursed, remaining; allocated and unallocated). Every write takes the unit of work's session."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from projects_service.sources.domain import Budget, Source
from projects_service.storage import Session, by_ids, draw, give_back
from relocation_shared.mongo import Doc


def source_to_doc(s: Source) -> Doc:
    return {
        "_id": s.id,
        "kind": s.kind.value,
        "name": s.name,
        "area_code": s.area_code,
        "area_path": s.area_path,
        "created_at": s.created_at,
        "created_by": s.created_by,
    }


def budget_to_doc(b: Budget) -> Doc:
    return {
        "_id": b.id,
        "source_id": b.source_id,
        "source_kind": b.source_kind.value,
        "year": b.year,
        "budget_fen": b.amount_fen,
        "disbursed_fen": 0,
        "remaining_fen": b.amount_fen,
        "allocated_fen": 0,  # given to projects (less what a cancellation released)
        "unallocated_fen": b.amount_fen,  # what allocations may still take
        "area_path": b.area_path,
    }


class SourcesStore(Protocol):
    async def insert_source(self, source: Source, session: Session) -> None: ...
    async def get_source(self, source_id: str, session: Session = None) -> Doc | None: ...
    async def get_sources(self, ids: Iterable[str], session: Session) -> dict[str, Doc]: ...
    async def list_sources(self) -> list[Doc]: ...
    async def source_budgets(self, source_id: str) -> list[Doc]: ...
    async def get_budget(self, budget_id: str, session: Session) -> Doc | None: ...
    async def get_budgets(self, ids: Iterable[str], session: Session) -> dict[str, Doc]: ...
    async def insert_budgets(self, budgets: list[Budget], session: Session) -> None: ...
    async def set_budget(self, budget_id: str, *, old_budget: int, new_budget: int, session: Session) -> bool: ...
    async def draw_budgets(self, draws: dict[str, int], session: Session) -> bool: ...
    async def reserve_budgets(self, reserves: dict[str, int], session: Session) -> bool: ...
    async def release_budgets(self, releases: dict[str, int], session: Session) -> None: ...
    async def give_back_budget(self, budget_id: str, amount: int, session: Session) -> None: ...


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.budgets.create_index([("source_id", ASCENDING)], name="source")


class MongoSourcesStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def insert_source(self, source: Source, session: Session) -> None:
        await self.db.sources.insert_one(source_to_doc(source), session=session)

    async def get_source(self, source_id: str, session: Session = None) -> Doc | None:
        return await self.db.sources.find_one({"_id": source_id}, session=session)

    async def get_sources(self, ids: Iterable[str], session: Session) -> dict[str, Doc]:
        return await by_ids(self.db.sources, ids, session)

    async def list_sources(self) -> list[Doc]:
        return await self.db.sources.find().sort("_id", ASCENDING).to_list(None)

    async def source_budgets(self, source_id: str) -> list[Doc]:
        return await self.db.budgets.find({"source_id": source_id}).to_list(None)

    async def get_budget(self, budget_id: str, session: Session) -> Doc | None:
        return await self.db.budgets.find_one({"_id": budget_id}, session=session)

    async def get_budgets(self, ids: Iterable[str], session: Session) -> dict[str, Doc]:
        return await by_ids(self.db.budgets, ids, session)

    async def insert_budgets(self, budgets: list[Budget], session: Session) -> None:
        if budgets:
            await self.db.budgets.insert_many([budget_to_doc(b) for b in budgets], session=session)

    async def set_budget(self, budget_id: str, *, old_budget: int, new_budget: int, session: Session) -> bool:
        """Change a budget unless it moved under us; the remaining amount moves by the same delta."""
        delta = new_budget - old_budget
        result = await self.db.budgets.update_one(
            {"_id": budget_id, "budget_fen": old_budget, "remaining_fen": {"$gte": -delta}},
            {"$set": {"budget_fen": new_budget}, "$inc": {"remaining_fen": delta, "unallocated_fen": delta}},
            session=session,
        )
        return result.modified_count == 1

    async def draw_budgets(self, draws: dict[str, int], session: Session) -> bool:
        return await draw(self.db.budgets, draws, session)

    async def give_back_budget(self, budget_id: str, amount: int, session: Session) -> None:
        await give_back(self.db.budgets, budget_id, amount, released=False, session=session)

    async def reserve_budgets(self, reserves: dict[str, int], session: Session) -> bool:
        """Allocate from budgets: each only if enough is still unallocated (the conditional update
        that makes two concurrent allocations unable to exceed a budget). True when all matched."""
        if not reserves:
            return True
        ops = [
            UpdateOne(
                {"_id": key, "unallocated_fen": {"$gte": amount}},
                {"$inc": {"unallocated_fen": -amount, "allocated_fen": amount}},
            )
            for key, amount in reserves.items()
        ]
        result = await self.db.budgets.bulk_write(ops, ordered=False, session=session)
        return result.matched_count == len(ops)

    async def release_budgets(self, releases: dict[str, int], session: Session) -> None:
        """What a cancelled project gave back may be allocated again."""
        ops = [
            UpdateOne({"_id": key}, {"$inc": {"unallocated_fen": amount, "allocated_fen": -amount}})
            for key, amount in releases.items()
            if amount
        ]
        if ops:
            await self.db.budgets.bulk_write(ops, ordered=False, session=session)
