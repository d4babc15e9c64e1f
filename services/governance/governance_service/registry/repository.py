"""MongoDB access of the registry: collections `areas`, `households` and `residents`, their
indexes and document shapes. Every write takes the unit of work's session.

`get_area`/`get_areas`/`get_household`/`get_households` return the stored documents for the
community work, which reads areas and households as they are kept; the registry's own use
cases read and write records (`find_*`, `insert_*`)."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from governance_service.registry.domain import AreaRecord, HouseholdRecord, ResidentRecord
from relocation_shared.areas import Level
from relocation_shared.events.vocab import HouseholdKind
from relocation_shared.mongo import Doc, find_in

Session = AsyncClientSession | None


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.areas.create_index([("parent", ASCENDING)], name="parent")
    await db.households.create_index([("area_path", ASCENDING), ("_id", ASCENDING)], name="area_path")
    await db.residents.create_index([("national_id_hash", ASCENDING)], name="national_id_hash", unique=True)
    await db.residents.create_index([("household_id", ASCENDING)], name="household")
    await db.residents.create_index([("area_path", ASCENDING), ("_id", ASCENDING)], name="area_path")


# --- document mapping ------------------------------------------------------------------------------


def area_to_doc(area: AreaRecord) -> Doc:
    doc: Doc = {
        "_id": area.code,
        "name": area.name,
        "level": area.level.value,
        "parent": area.parent,
        "path": area.path,
    }
    return doc | ({"demo": True} if area.demo else {})


def area_from_doc(doc: Doc) -> AreaRecord:
    return AreaRecord(
        code=doc["_id"],
        name=doc["name"],
        level=Level(doc["level"]),
        parent=doc.get("parent"),
        path=doc["path"],
        demo=doc.get("demo", False),
    )


def household_to_doc(household: HouseholdRecord) -> Doc:
    return {
        "_id": household.id,
        "kind": household.kind.value,
        "community_code": household.community_code,
        "grid_code": household.grid_code,
        "building_code": household.building_code,
        "room": household.room,
        "registered_on": household.registered_on.isoformat(),
        "area_path": household.area_path,
    }


def household_from_doc(doc: Doc) -> HouseholdRecord:
    return HouseholdRecord(
        id=doc["_id"],
        kind=HouseholdKind(doc["kind"]),
        community_code=doc["community_code"],
        grid_code=doc["grid_code"],
        building_code=doc["building_code"],
        room=doc.get("room"),
        registered_on=date.fromisoformat(doc["registered_on"]),
        area_path=doc["area_path"],
    )


def resident_to_doc(resident: ResidentRecord) -> Doc:
    return {
        "_id": resident.id,
        "household_id": resident.household_id,
        "name": resident.name,
        "national_id_hash": resident.national_id_hash,
        "national_id_masked": resident.national_id_masked,
        "phone_hash": resident.phone_hash,
        "phone_masked": resident.phone_masked,
        "sex": resident.sex,
        "birth_date": resident.birth_date.isoformat(),
        "labour_capacity": resident.labour_capacity,
        "status": resident.status,
        "moved_out_on": resident.moved_out_on.isoformat() if resident.moved_out_on else None,
        "area_path": resident.area_path,
    }


def resident_from_doc(doc: Doc) -> ResidentRecord:
    return ResidentRecord(
        id=doc["_id"],
        household_id=doc["household_id"],
        name=doc["name"],
        national_id_hash=doc["national_id_hash"],
        national_id_masked=doc["national_id_masked"],
        phone_hash=doc.get("phone_hash"),
        phone_masked=doc.get("phone_masked"),
        sex=doc["sex"],
        birth_date=date.fromisoformat(doc["birth_date"]),
        labour_capacity=doc["labour_capacity"],
        status=doc["status"],
        moved_out_on=date.fromisoformat(doc["moved_out_on"]) if doc.get("moved_out_on") else None,
        area_path=doc["area_path"],
    )


# --- the store -------------------------------------------------------------------------------------


class RegistryStore(Protocol):
    # areas
    async def upsert_areas(self, areas: list[AreaRecord], session: Session) -> None: ...

    async def get_area(self, code: str, session: Session = None) -> Doc | None: ...

    async def get_areas(self, codes: list[str], session: Session = None) -> dict[str, Doc]: ...

    async def find_area(self, code: str, session: Session = None) -> AreaRecord | None: ...

    async def find_areas(self, codes: list[str], session: Session = None) -> dict[str, AreaRecord]: ...

    async def insert_area(self, area: AreaRecord, session: Session) -> None: ...

    async def children(self, parent: str) -> list[AreaRecord]: ...

    # households
    async def insert_household(self, household: HouseholdRecord, session: Session) -> None: ...

    async def get_household(self, household_id: str, session: Session = None) -> Doc | None: ...

    async def get_households(self, ids: list[str], session: Session = None) -> dict[str, Doc]: ...

    async def find_household(self, household_id: str, session: Session = None) -> HouseholdRecord | None: ...

    async def find_households(self, ids: list[str], session: Session = None) -> dict[str, HouseholdRecord]: ...

    async def list_households(self, area_code: str, *, after: str | None, limit: int) -> list[HouseholdRecord]: ...

    # residents
    async def insert_residents(self, residents: list[ResidentRecord], session: Session) -> None: ...

    async def find_resident(self, resident_id: str, session: Session = None) -> ResidentRecord | None: ...

    async def existing_id_hashes(self, hashes: list[str], session: Session = None) -> set[str]: ...

    async def save_labour_capacity(self, resident: ResidentRecord, session: Session) -> None: ...

    async def save_move_out(self, resident: ResidentRecord, session: Session) -> None: ...

    async def household_residents(self, household_id: str) -> list[ResidentRecord]: ...


class MongoRegistryStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    # areas ---------------------------------------------------------------
    async def upsert_areas(self, areas: list[AreaRecord], session: Session) -> None:
        ops = [UpdateOne({"_id": a.code}, {"$set": area_to_doc(a)}, upsert=True) for a in areas]
        if ops:
            await self.db.areas.bulk_write(ops, ordered=True, session=session)

    async def get_area(self, code: str, session: Session = None) -> Doc | None:
        return await self.db.areas.find_one({"_id": code}, session=session)

    async def get_areas(self, codes: list[str], session: Session = None) -> dict[str, Doc]:
        docs = await find_in(self.db.areas, "_id", codes, session=session)
        return {d["_id"]: d for d in docs}

    async def find_area(self, code: str, session: Session = None) -> AreaRecord | None:
        doc = await self.get_area(code, session)
        return area_from_doc(doc) if doc is not None else None

    async def find_areas(self, codes: list[str], session: Session = None) -> dict[str, AreaRecord]:
        return {code: area_from_doc(d) for code, d in (await self.get_areas(codes, session)).items()}

    async def insert_area(self, area: AreaRecord, session: Session) -> None:
        await self.db.areas.insert_one(area_to_doc(area), session=session)

    async def children(self, parent: str) -> list[AreaRecord]:
        docs = await self.db.areas.find({"parent": parent}).sort("_id", ASCENDING).to_list(None)
        return [area_from_doc(d) for d in docs]

    # households ----------------------------------------------------------
    async def insert_household(self, household: HouseholdRecord, session: Session) -> None:
        await self.db.households.insert_one(household_to_doc(household), session=session)

    async def get_household(self, household_id: str, session: Session = None) -> Doc | None:
        return await self.db.households.find_one({"_id": household_id}, session=session)

    async def get_households(self, ids: list[str], session: Session = None) -> dict[str, Doc]:
        docs = await find_in(self.db.households, "_id", ids, session=session)
        return {d["_id"]: d for d in docs}

    async def find_household(self, household_id: str, session: Session = None) -> HouseholdRecord | None:
        doc = await self.get_household(household_id, session)
        return household_from_doc(doc) if doc is not None else None

    async def find_households(self, ids: list[str], session: Session = None) -> dict[str, HouseholdRecord]:
        return {hid: household_from_doc(d) for hid, d in (await self.get_households(ids, session)).items()}

    async def list_households(self, area_code: str, *, after: str | None, limit: int) -> list[HouseholdRecord]:
        query: Doc = {"area_path": area_code}
        if after:
            query["_id"] = {"$gt": after}
        docs = await self.db.households.find(query).sort("_id", ASCENDING).limit(limit).to_list(limit)
        return [household_from_doc(d) for d in docs]

    # residents -----------------------------------------------------------
    async def insert_residents(self, residents: list[ResidentRecord], session: Session) -> None:
        await self.db.residents.insert_many([resident_to_doc(r) for r in residents], session=session)

    async def find_resident(self, resident_id: str, session: Session = None) -> ResidentRecord | None:
        doc = await self.db.residents.find_one({"_id": resident_id}, session=session)
        return resident_from_doc(doc) if doc is not None else None

    async def existing_id_hashes(self, hashes: list[str], session: Session = None) -> set[str]:
        docs = await find_in(
            self.db.residents, "national_id_hash", hashes, projection={"national_id_hash": 1}, session=session
        )
        return {d["national_id_hash"] for d in docs}

    async def save_labour_capacity(self, resident: ResidentRecord, session: Session) -> None:
        await self._set(resident.id, {"labour_capacity": resident.labour_capacity}, session)

    async def save_move_out(self, resident: ResidentRecord, session: Session) -> None:
        doc = resident_to_doc(resident)
        await self._set(resident.id, {"status": doc["status"], "moved_out_on": doc["moved_out_on"]}, session)

    async def _set(self, resident_id: str, fields: Doc, session: Session) -> None:
        await self.db.residents.update_one({"_id": resident_id}, {"$set": fields}, session=session)

    async def household_residents(self, household_id: str) -> list[ResidentRecord]:
        docs = await self.db.residents.find({"household_id": household_id}).sort("_id", ASCENDING).to_list(None)
        return [resident_from_doc(d) for d in docs]
