"""In-memory fake of the registry's repository: the public methods of `GovernanceRepository`
(same names and parameters; sessions ignored), unique `national_id_hash` too."""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from tests.fakes.collections import Doc, FakeCollections, _stored

# --- the registry --------------------------------------------------------------------------------


class FakeGovernanceRepository(FakeCollections):
    COLLECTIONS = ("areas", "households", "residents")

    # areas
    async def upsert_areas(self, areas: list[Doc], session: Any) -> None:
        for a in areas:
            self.data["areas"].setdefault(a["_id"], {}).update(_stored(a))

    async def get_area(self, code: str, session: Any = None) -> Doc | None:
        return self._get("areas", code)

    async def get_areas(self, codes: list[str], session: Any = None) -> dict[str, Doc]:
        return self._by_ids("areas", codes)

    async def insert_area(self, doc: Doc, session: Any) -> None:
        self._insert("areas", doc)

    async def children(self, parent: str) -> list[Doc]:
        return self._sorted("areas", lambda d: d.get("parent") == parent, "_id")

    # households
    async def insert_household(self, doc: Doc, session: Any) -> None:
        self._insert("households", doc)

    async def get_household(self, household_id: str, session: Any = None) -> Doc | None:
        return self._get("households", household_id)

    async def get_households(self, ids: list[str], session: Any = None) -> dict[str, Doc]:
        return self._by_ids("households", ids)

    async def list_households(self, area_code: str, *, after: str | None, limit: int) -> list[Doc]:
        rows = self._sorted(
            "households", lambda d: area_code in d["area_path"] and (after is None or d["_id"] > after), "_id"
        )
        return rows[:limit]

    # residents
    async def insert_residents(self, docs: list[Doc], session: Any) -> None:
        hashes = {d["national_id_hash"] for d in self.data["residents"].values()}
        for d in docs:  # the unique index on national_id_hash
            if d["national_id_hash"] in hashes:
                raise DuplicateKeyError("E11000 duplicate key residents national_id_hash")
            hashes.add(d["national_id_hash"])
        for d in docs:
            self._insert("residents", d)

    async def get_resident(self, resident_id: str, session: Any = None) -> Doc | None:
        return self._get("residents", resident_id)

    async def existing_id_hashes(self, hashes: list[str], session: Any = None) -> set[str]:
        wanted = set(hashes)
        return {d["national_id_hash"] for d in self.data["residents"].values() if d["national_id_hash"] in wanted}

    async def update_resident(self, resident_id: str, fields: Doc, session: Any) -> None:
        self._set("residents", resident_id, fields)

    async def household_residents(self, household_id: str) -> list[Doc]:
        return self._sorted("residents", lambda d: d["household_id"] == household_id, "_id")
