"""Storage of this service's copies of other services' records, kept from their events:
`spells` (employment spells, with the project each is counted for) and `households` (the
registry's households, with how many unreversed dividends each has had). Every write takes
the unit of work's session."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from pymongo import ASCENDING, UpdateMany, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from projects_service.jobs.domain import Household, Link, Spell
from projects_service.storage import Session, by_ids, chunks
from relocation_shared.mongo import Doc

UNLINKED: Doc = {
    "project_id": None,
    "project_kind": None,
    "project_chain": None,
    "project_source_kinds": [],
    "linked_at": None,
}


def spell_to_doc(s: Spell) -> Doc:
    return {
        "_id": s.id,
        "resident_id": s.resident_id,
        "household_id": s.household_id,
        "area_path": list(s.area_path),
        "community_code": s.community_code,
        "employment_type": s.employment_type,
        "started_on": s.started_on.isoformat(),
        "open": s.open,
        "ended_on": s.ended_on.isoformat() if s.ended_on else None,
        **UNLINKED,
    }


def link_to_fields(link: Link, at: datetime) -> Doc:
    return {
        "project_id": link.project_id,
        "project_kind": link.project_kind,
        "project_chain": link.project_chain,
        "project_source_kinds": link.project_source_kinds,
        "linked_at": at,
    }


def household_to_doc(h: Household) -> Doc:
    return {"_id": h.id, "community_code": h.community_code, "area_path": list(h.area_path), "kind": h.kind}


class JobsStore(Protocol):
    async def get_spell(self, spell_id: str, session: Session = None) -> Doc | None: ...
    async def get_spells(self, ids: Iterable[str], session: Session) -> dict[str, Doc]: ...
    async def insert_spells(self, spells: list[Spell], session: Session) -> None: ...
    async def close_spell(self, spell_id: str, *, ended_on: str, session: Session) -> None: ...
    async def link_spells(self, links: list[tuple[Link, list[str]]], *, at: datetime, session: Session) -> int: ...
    async def unlink_spell(self, spell_id: str, project_id: str, session: Session) -> bool: ...
    async def project_spells(self, project_id: str, *, open_only: bool, limit: int) -> list[Doc]: ...
    async def get_household(self, household_id: str, session: Session = None) -> Doc | None: ...
    async def get_households(self, ids: Iterable[str], session: Session) -> dict[str, Doc]: ...
    async def upsert_household(self, household: Household, session: Session) -> None: ...
    async def add_household_dividends(self, changes: dict[str, int], session: Session) -> bool: ...


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.spells.create_index([("project_id", ASCENDING), ("open", ASCENDING)], name="project")


class MongoJobsStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def get_spell(self, spell_id: str, session: Session = None) -> Doc | None:
        return await self.db.spells.find_one({"_id": spell_id}, session=session)

    async def get_spells(self, ids: Iterable[str], session: Session) -> dict[str, Doc]:
        return await by_ids(self.db.spells, ids, session)

    async def insert_spells(self, spells: list[Spell], session: Session) -> None:
        if spells:
            await self.db.spells.insert_many([spell_to_doc(s) for s in spells], session=session)

    async def close_spell(self, spell_id: str, *, ended_on: str, session: Session) -> None:
        await self.db.spells.update_one(
            {"_id": spell_id}, {"$set": {"open": False, "ended_on": ended_on}}, session=session
        )

    async def link_spells(self, links: list[tuple[Link, list[str]]], *, at: datetime, session: Session) -> int:
        """Link open, unlinked spells to projects, in one round trip; returns how many were linked."""
        ops = [
            UpdateMany(
                {"_id": {"$in": list(part)}, "open": True, "project_id": None}, {"$set": link_to_fields(link, at)}
            )
            for link, spell_ids in links
            for part in chunks(spell_ids)
        ]
        if not ops:
            return 0
        result = await self.db.spells.bulk_write(ops, ordered=False, session=session)
        return result.modified_count

    async def unlink_spell(self, spell_id: str, project_id: str, session: Session) -> bool:
        result = await self.db.spells.update_one(
            {"_id": spell_id, "project_id": project_id, "open": True}, {"$set": UNLINKED}, session=session
        )
        return result.modified_count == 1

    async def project_spells(self, project_id: str, *, open_only: bool, limit: int) -> list[Doc]:
        query: Doc = {"project_id": project_id}
        if open_only:
            query["open"] = True
        return await self.db.spells.find(query).sort("_id", ASCENDING).limit(limit).to_list(limit)

    async def get_household(self, household_id: str, session: Session = None) -> Doc | None:
        return await self.db.households.find_one({"_id": household_id}, session=session)

    async def get_households(self, ids: Iterable[str], session: Session) -> dict[str, Doc]:
        return await by_ids(self.db.households, ids, session)

    async def upsert_household(self, household: Household, session: Session) -> None:
        doc = household_to_doc(household)
        await self.db.households.update_one(
            {"_id": doc["_id"]}, {"$set": doc, "$setOnInsert": {"dividends": 0}}, upsert=True, session=session
        )

    async def add_household_dividends(self, changes: dict[str, int], session: Session) -> bool:
        if not changes:
            return True
        ops = [UpdateOne({"_id": hid}, {"$inc": {"dividends": n}}) for hid, n in changes.items()]
        result = await self.db.households.bulk_write(ops, ordered=False, session=session)
        return result.matched_count == len(ops)
