"""MongoDB access of the registry. Every write takes the unit of work's session."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

Doc = dict[str, Any]
Session = AsyncClientSession | None


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.areas.create_index([("parent", ASCENDING)], name="parent")
    await db.households.create_index([("area_path", ASCENDING), ("_id", ASCENDING)], name="area_path")
    await db.residents.create_index([("national_id_hash", ASCENDING)], name="national_id_hash", unique=True)
    await db.residents.create_index([("household_id", ASCENDING)], name="household")
    await db.residents.create_index([("area_path", ASCENDING), ("_id", ASCENDING)], name="area_path")


class GovernanceRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    # areas ---------------------------------------------------------------
    async def upsert_areas(self, areas: list[Doc], session: Session) -> None:
        ops = [UpdateOne({"_id": a["_id"]}, {"$set": a}, upsert=True) for a in areas]
        if ops:
            await self.db.areas.bulk_write(ops, ordered=True, session=session)

    async def get_area(self, code: str, session: Session = None) -> Doc | None:
        return await self.db.areas.find_one({"_id": code}, session=session)

    async def get_areas(self, codes: list[str], session: Session = None) -> dict[str, Doc]:
        docs = await self.db.areas.find({"_id": {"$in": codes}}, session=session).to_list(None)
        return {d["_id"]: d for d in docs}

    async def insert_area(self, doc: Doc, session: Session) -> None:
        await self.db.areas.insert_one(doc, session=session)

    async def children(self, parent: str) -> list[Doc]:
        return await self.db.areas.find({"parent": parent}).sort("_id", ASCENDING).to_list(None)

    # households ----------------------------------------------------------
    async def insert_household(self, doc: Doc, session: Session) -> None:
        await self.db.households.insert_one(doc, session=session)

    async def get_household(self, household_id: str, session: Session = None) -> Doc | None:
        return await self.db.households.find_one({"_id": household_id}, session=session)

    async def get_households(self, ids: list[str], session: Session = None) -> dict[str, Doc]:
        docs = await self.db.households.find({"_id": {"$in": ids}}, session=session).to_list(None)
        return {d["_id"]: d for d in docs}

    async def list_households(self, area_code: str, *, after: str | None, limit: int) -> list[Doc]:
        query: Doc = {"area_path": area_code}
        if after:
            query["_id"] = {"$gt": after}
        return await self.db.households.find(query).sort("_id", ASCENDING).limit(limit).to_list(limit)

    # residents -----------------------------------------------------------
    async def insert_residents(self, docs: list[Doc], session: Session) -> None:
        await self.db.residents.insert_many(docs, session=session)

    async def get_resident(self, resident_id: str, session: Session = None) -> Doc | None:
        return await self.db.residents.find_one({"_id": resident_id}, session=session)

    async def existing_id_hashes(self, hashes: list[str], session: Session = None) -> set[str]:
        docs = await self.db.residents.find(
            {"national_id_hash": {"$in": hashes}}, {"national_id_hash": 1}, session=session
        ).to_list(None)
        return {d["national_id_hash"] for d in docs}

    async def update_resident(self, resident_id: str, fields: Doc, session: Session) -> None:
        await self.db.residents.update_one({"_id": resident_id}, {"$set": fields}, session=session)

    async def household_residents(self, household_id: str) -> list[Doc]:
        return await self.db.residents.find({"household_id": household_id}).sort("_id", ASCENDING).to_list(None)
