"""MongoDB access of the registry. Every write takes the unit of work's session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from relocation_shared.mongo import find_in

Doc = dict[str, Any]
Session = AsyncClientSession | None


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.areas.create_index([("parent", ASCENDING)], name="parent")
    await db.households.create_index([("area_path", ASCENDING), ("_id", ASCENDING)], name="area_path")
    await db.residents.create_index([("national_id_hash", ASCENDING)], name="national_id_hash", unique=True)
    await db.residents.create_index([("household_id", ASCENDING)], name="household")
    await db.residents.create_index([("area_path", ASCENDING), ("_id", ASCENDING)], name="area_path")
    await ensure_community_indexes(db)


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
        docs = await find_in(self.db.areas, "_id", codes, session=session)
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
        docs = await find_in(self.db.households, "_id", ids, session=session)
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
        docs = await find_in(
            self.db.residents, "national_id_hash", hashes, projection={"national_id_hash": 1}, session=session
        )
        return {d["national_id_hash"] for d in docs}

    async def update_resident(self, resident_id: str, fields: Doc, session: Session) -> None:
        await self.db.residents.update_one({"_id": resident_id}, {"$set": fields}, session=session)

    async def household_residents(self, household_id: str) -> list[Doc]:
        return await self.db.residents.find({"household_id": household_id}).sort("_id", ASCENDING).to_list(None)


# =============================================================================================
# Community work: staffing, party organisations, requests, disputes, visits, points


async def ensure_community_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.staff.create_index([("area_code", ASCENDING), ("role", ASCENDING)], name="area_role")
    await db.staff.create_index([("area_path", ASCENDING), ("_id", ASCENDING)], name="area_path")
    await db.party_orgs.create_index([("community_code", ASCENDING)], name="community")
    await db.requests.create_index([("area_path", ASCENDING), ("_id", ASCENDING)], name="area_path")
    # only watched requests carry next_deadline_at: the scheduler's scan reads this index alone
    await db.requests.create_index([("next_deadline_at", ASCENDING)], name="next_deadline", sparse=True)
    await db.disputes.create_index([("area_path", ASCENDING), ("_id", ASCENDING)], name="area_path")
    await db.disputes.create_index([("next_deadline_at", ASCENDING)], name="next_deadline", sparse=True)
    await db.visits.create_index([("area_path", ASCENDING), ("visited_on", ASCENDING)], name="area_date")
    await db.visits.create_index([("household_id", ASCENDING)], name="household")
    await db.points_ledger.create_index([("household_id", ASCENDING), ("at", ASCENDING)], name="household")


class CommunityRepository(GovernanceRepository):
    """The community work's collections; areas and households are read through the registry's
    methods it inherits. Aggregates with a version are saved with a compare-and-set."""

    # staff ---------------------------------------------------------------
    async def get_staff(self, staff_id: str, session: Session = None) -> Doc | None:
        return await self.db.staff.find_one({"_id": staff_id}, session=session)

    async def save_staff(self, doc: Doc, session: Session) -> None:
        await self.db.staff.replace_one({"_id": doc["_id"]}, doc, upsert=True, session=session)

    async def list_staff(self, area_code: str, *, role: str | None, active_only: bool, limit: int) -> list[Doc]:
        query: Doc = {"area_path": area_code}
        if role:
            query["role"] = role
        if active_only:
            query["active"] = True
        return await self.db.staff.find(query).sort("_id", ASCENDING).limit(limit).to_list(limit)

    # party organisations ------------------------------------------------------
    async def insert_party_org(self, doc: Doc, session: Session) -> None:
        await self.db.party_orgs.insert_one(doc, session=session)

    async def get_party_org(self, org_id: str, session: Session = None) -> Doc | None:
        return await self.db.party_orgs.find_one({"_id": org_id}, session=session)

    async def community_party_orgs(self, community_code: str, session: Session = None) -> list[Doc]:
        cursor = self.db.party_orgs.find({"community_code": community_code}, session=session)
        return await cursor.sort("_id", ASCENDING).to_list(None)

    # requests ------------------------------------------------------------------
    async def insert_request(self, doc: Doc, session: Session) -> None:
        await self.db.requests.insert_one(doc, session=session)

    async def get_request(self, request_id: str, session: Session = None) -> Doc | None:
        return await self.db.requests.find_one({"_id": request_id}, session=session)

    async def replace_request(self, doc: Doc, *, expected_version: int, session: Session) -> bool:
        """Compare-and-set: writes only if nobody changed the request since it was read."""
        result = await self.db.requests.replace_one(
            {"_id": doc["_id"], "version": expected_version}, doc, session=session
        )
        return result.modified_count == 1

    async def list_requests(
        self, area_code: str, *, state: str | None, overdue: bool | None, after: str | None, limit: int
    ) -> list[Doc]:
        query: Doc = {"area_path": area_code}
        if state:
            query["state"] = state
        if overdue is not None:
            query["overdue_count"] = {"$gt": 0} if overdue else 0
        if after:
            query["_id"] = {"$gt": after}
        return await self.db.requests.find(query).sort("_id", ASCENDING).limit(limit).to_list(limit)

    async def due_request_ids(self, now: datetime, *, exclude: list[str], limit: int) -> list[str]:
        query: Doc = {"next_deadline_at": {"$lte": now}}
        if exclude:
            query["_id"] = {"$nin": exclude}
        cursor = self.db.requests.find(query, {"_id": 1}).sort("next_deadline_at", ASCENDING).limit(limit)
        return [d["_id"] for d in await cursor.to_list(limit)]

    # disputes ------------------------------------------------------------------
    async def insert_dispute(self, doc: Doc, session: Session) -> None:
        await self.db.disputes.insert_one(doc, session=session)

    async def get_dispute(self, dispute_id: str, session: Session = None) -> Doc | None:
        return await self.db.disputes.find_one({"_id": dispute_id}, session=session)

    async def replace_dispute(self, doc: Doc, *, expected_version: int, session: Session) -> bool:
        result = await self.db.disputes.replace_one(
            {"_id": doc["_id"], "version": expected_version}, doc, session=session
        )
        return result.modified_count == 1

    async def list_disputes(self, area_code: str, *, state: str | None, after: str | None, limit: int) -> list[Doc]:
        query: Doc = {"area_path": area_code}
        if state:
            query["state"] = state
        if after:
            query["_id"] = {"$gt": after}
        return await self.db.disputes.find(query).sort("_id", ASCENDING).limit(limit).to_list(limit)

    async def due_dispute_ids(self, now: datetime, *, exclude: list[str], limit: int) -> list[str]:
        query: Doc = {"next_deadline_at": {"$lte": now}}
        if exclude:
            query["_id"] = {"$nin": exclude}
        cursor = self.db.disputes.find(query, {"_id": 1}).sort("next_deadline_at", ASCENDING).limit(limit)
        return [d["_id"] for d in await cursor.to_list(limit)]

    # visits --------------------------------------------------------------------
    async def insert_visit(self, doc: Doc, session: Session) -> None:
        await self.db.visits.insert_one(doc, session=session)

    async def get_visit(self, visit_id: str) -> Doc | None:
        return await self.db.visits.find_one({"_id": visit_id})

    async def list_visits(
        self, area_code: str, *, since: str | None, until: str | None, after: str | None, limit: int
    ) -> list[Doc]:
        query: Doc = {"area_path": area_code}
        span: Doc = {}
        if since:
            span["$gte"] = since
        if until:
            span["$lte"] = until
        if span:
            query["visited_on"] = span
        if after:
            query["_id"] = {"$gt": after}
        return await self.db.visits.find(query).sort("_id", ASCENDING).limit(limit).to_list(limit)

    # points --------------------------------------------------------------------
    async def get_points_account(self, household_id: str, session: Session = None) -> Doc | None:
        return await self.db.points_accounts.find_one({"_id": household_id}, session=session)

    async def credit_points(self, household_id: str, points: int, *, area_path: list[str], session: Session) -> Doc:
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
        return doc

    async def debit_points(self, household_id: str, points: int, session: Session) -> Doc | None:
        """Take points only if the balance covers them (the guard against a negative balance and
        against two redemptions spending the same points); None when it does not."""
        return await self.db.points_accounts.find_one_and_update(
            {"_id": household_id, "balance": {"$gte": points}},
            {"$inc": {"balance": -points, "redeemed_total": points}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )

    async def get_points_entry(self, entry_id: str, session: Session = None) -> Doc | None:
        return await self.db.points_ledger.find_one({"_id": entry_id}, session=session)

    async def insert_points_entry(self, doc: Doc, session: Session) -> None:
        await self.db.points_ledger.insert_one(doc, session=session)

    async def points_entries(self, household_id: str, *, limit: int) -> list[Doc]:
        cursor = self.db.points_ledger.find({"household_id": household_id}).sort("at", DESCENDING)
        return await cursor.limit(limit).to_list(limit)
