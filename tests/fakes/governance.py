"""In-memory fake of the registry's store: every method of `RegistryStore`, with the real
`MongoRegistryStore`'s names and parameters (sessions ignored), over the same documents (the
real mapping functions), unique `national_id_hash` too."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from governance_service.registry.domain import AreaRecord, HouseholdRecord, ResidentRecord
from governance_service.registry.repository import (
    MongoRegistryStore,
    RegistryStore,
    Session,
    area_from_doc,
    area_to_doc,
    household_from_doc,
    household_to_doc,
    resident_from_doc,
    resident_to_doc,
)
from tests.fakes.collections import Doc, FakeCollections, _stored
from tests.fakes.registry import Pair


class FakeRegistryStore(FakeCollections):
    COLLECTIONS = ("areas", "households", "residents")

    # areas
    async def upsert_areas(self, areas: list[AreaRecord], session: Session) -> None:
        for a in areas:
            self.data["areas"].setdefault(a.code, {}).update(_stored(area_to_doc(a)))

    async def get_area(self, code: str, session: Session = None) -> Doc | None:
        return self._get("areas", code)

    async def get_areas(self, codes: list[str], session: Session = None) -> dict[str, Doc]:
        return self._by_ids("areas", codes)

    async def find_area(self, code: str, session: Session = None) -> AreaRecord | None:
        doc = self._get("areas", code)
        return area_from_doc(doc) if doc is not None else None

    async def find_areas(self, codes: list[str], session: Session = None) -> dict[str, AreaRecord]:
        return {code: area_from_doc(d) for code, d in self._by_ids("areas", codes).items()}

    async def insert_area(self, area: AreaRecord, session: Session) -> None:
        self._insert("areas", area_to_doc(area))

    async def children(self, parent: str) -> list[AreaRecord]:
        return [area_from_doc(d) for d in self._sorted("areas", lambda d: d.get("parent") == parent, "_id")]

    # households
    async def insert_household(self, household: HouseholdRecord, session: Session) -> None:
        self._insert("households", household_to_doc(household))

    async def get_household(self, household_id: str, session: Session = None) -> Doc | None:
        return self._get("households", household_id)

    async def get_households(self, ids: list[str], session: Session = None) -> dict[str, Doc]:
        return self._by_ids("households", ids)

    async def find_household(self, household_id: str, session: Session = None) -> HouseholdRecord | None:
        doc = self._get("households", household_id)
        return household_from_doc(doc) if doc is not None else None

    async def find_households(self, ids: list[str], session: Session = None) -> dict[str, HouseholdRecord]:
        return {hid: household_from_doc(d) for hid, d in self._by_ids("households", ids).items()}

    async def list_households(self, area_code: str, *, after: str | None, limit: int) -> list[HouseholdRecord]:
        rows = self._sorted(
            "households", lambda d: area_code in d["area_path"] and (after is None or d["_id"] > after), "_id"
        )
        return [household_from_doc(d) for d in rows[:limit]]

    # residents
    async def insert_residents(self, residents: list[ResidentRecord], session: Session) -> None:
        docs = [resident_to_doc(r) for r in residents]
        hashes = {d["national_id_hash"] for d in self.data["residents"].values()}
        for d in docs:  # the unique index on national_id_hash
            if d["national_id_hash"] in hashes:
                raise DuplicateKeyError("E11000 duplicate key residents national_id_hash")
            hashes.add(d["national_id_hash"])
        for d in docs:
            self._insert("residents", d)

    async def find_resident(self, resident_id: str, session: Session = None) -> ResidentRecord | None:
        doc = self._get("residents", resident_id)
        return resident_from_doc(doc) if doc is not None else None

    async def existing_id_hashes(self, hashes: list[str], session: Session = None) -> set[str]:
        wanted = set(hashes)
        return {d["national_id_hash"] for d in self.data["residents"].values() if d["national_id_hash"] in wanted}

    async def save_labour_capacity(self, resident: ResidentRecord, session: Session) -> None:
        self._set("residents", resident.id, {"labour_capacity": resident.labour_capacity})

    async def save_move_out(self, resident: ResidentRecord, session: Session) -> None:
        doc = resident_to_doc(resident)
        self._set("residents", resident.id, {"status": doc["status"], "moved_out_on": doc["moved_out_on"]})

    async def household_residents(self, household_id: str) -> list[ResidentRecord]:
        docs = self._sorted("residents", lambda d: d["household_id"] == household_id, "_id")
        return [resident_from_doc(d) for d in docs]


PAIRS = [Pair(protocol=RegistryStore, real=MongoRegistryStore, fake=FakeRegistryStore)]
