"""MongoDB access of the labour-force ledger: the roster built from registry events, spells,
trainings. Every write takes the unit of work's session."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from employment_service.models import HouseholdLedger
from relocation_shared.mongo import find_in

Doc = dict[str, Any]
Session = AsyncClientSession | None


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.roster_residents.create_index([("household_id", ASCENDING)], name="household")
    await db.roster_households.create_index([("area_path", ASCENDING), ("zero_since", ASCENDING)], name="zero_by_area")
    await db.spells.create_index([("resident_id", ASCENDING), ("started_on", ASCENDING)], name="resident")
    await db.trainings.create_index([("resident_id", ASCENDING)], name="resident")


class EmploymentRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    # roster --------------------------------------------------------------
    async def upsert_household(self, doc: Doc, session: Session) -> None:
        await self.db.roster_households.update_one(
            {"_id": doc["_id"]},
            {"$setOnInsert": {"labour_count": 0, "employed_count": 0, "zero_since": None}, "$set": doc},
            upsert=True,
            session=session,
        )

    async def get_household(self, household_id: str, session: Session = None) -> Doc | None:
        return await self.db.roster_households.find_one({"_id": household_id}, session=session)

    async def save_ledger(self, ledger: HouseholdLedger, session: Session) -> None:
        await self.db.roster_households.update_one(
            {"_id": ledger.household_id},
            {
                "$set": {
                    "labour_count": ledger.labour_count,
                    "employed_count": ledger.employed_count,
                    "zero_since": ledger.zero_since,
                }
            },
            session=session,
        )

    async def zero_households(self, area_code: str, *, limit: int) -> list[Doc]:
        cursor = self.db.roster_households.find({"area_path": area_code, "zero_since": {"$ne": None}})
        return await cursor.sort("zero_since", ASCENDING).limit(limit).to_list(limit)

    async def insert_resident(self, doc: Doc, session: Session) -> None:
        await self.db.roster_residents.insert_one(doc, session=session)

    async def get_resident(self, resident_id: str, session: Session = None) -> Doc | None:
        return await self.db.roster_residents.find_one({"_id": resident_id}, session=session)

    async def get_residents(self, ids: list[str], session: Session) -> dict[str, Doc]:
        docs = await find_in(self.db.roster_residents, "_id", ids, session=session)
        return {d["_id"]: d for d in docs}

    async def update_resident(self, resident_id: str, fields: Doc, session: Session) -> None:
        await self.db.roster_residents.update_one({"_id": resident_id}, {"$set": fields}, session=session)

    async def claim_open_spell(self, resident_id: str, spell_id: str, session: Session) -> bool:
        """Set the resident's open spell if they have none: the guard against two open spells."""
        result = await self.db.roster_residents.update_one(
            {"_id": resident_id, "open_spell_id": None}, {"$set": {"open_spell_id": spell_id}}, session=session
        )
        return result.modified_count == 1

    # spells and trainings ------------------------------------------------
    async def insert_spell(self, doc: Doc, session: Session) -> None:
        await self.db.spells.insert_one(doc, session=session)

    async def get_spell(self, spell_id: str, session: Session = None) -> Doc | None:
        return await self.db.spells.find_one({"_id": spell_id}, session=session)

    async def close_spell(self, spell_id: str, *, ended_on: str, reason: str, session: Session) -> None:
        await self.db.spells.update_one(
            {"_id": spell_id, "open": True},
            {"$set": {"open": False, "ended_on": ended_on, "end_reason": reason}},
            session=session,
        )

    async def resident_spells(self, resident_id: str) -> list[Doc]:
        return await self.db.spells.find({"resident_id": resident_id}).sort("started_on", ASCENDING).to_list(None)

    async def insert_training(self, doc: Doc, session: Session) -> None:
        await self.db.trainings.insert_one(doc, session=session)

    async def get_training(self, training_id: str) -> Doc | None:
        return await self.db.trainings.find_one({"_id": training_id})

    async def resident_trainings(self, resident_id: str) -> list[Doc]:
        return await self.db.trainings.find({"resident_id": resident_id}).sort("completed_on", ASCENDING).to_list(None)
