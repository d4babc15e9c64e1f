"""In-memory fake of the labour ledger's repository: the public methods of `EmploymentRepository`
(same names and parameters; sessions ignored)."""

from __future__ import annotations

from typing import Any

from employment_service.models import HouseholdLedger
from tests.fakes.collections import Doc, FakeCollections, _stored

# --- the labour-force ledger -------------------------------------------------------------------


class FakeEmploymentRepository(FakeCollections):
    COLLECTIONS = ("roster_households", "roster_residents", "spells", "trainings")

    # roster
    async def upsert_household(self, doc: Doc, session: Any) -> None:
        current = self.data["roster_households"].get(doc["_id"])
        if current is None:
            current = {"labour_count": 0, "employed_count": 0, "zero_since": None}
            self.data["roster_households"][doc["_id"]] = current
        current.update(_stored(doc))

    async def get_household(self, household_id: str, session: Any = None) -> Doc | None:
        return self._get("roster_households", household_id)

    async def save_ledger(self, ledger: HouseholdLedger, session: Any) -> None:
        self._set(
            "roster_households",
            ledger.household_id,
            {
                "labour_count": ledger.labour_count,
                "employed_count": ledger.employed_count,
                "zero_since": ledger.zero_since,
            },
        )

    async def zero_households(self, area_code: str, *, limit: int) -> list[Doc]:
        rows = self._sorted(
            "roster_households",
            lambda d: area_code in d["area_path"] and d.get("zero_since") is not None,
            "zero_since",
        )
        return rows[:limit]

    async def insert_resident(self, doc: Doc, session: Any) -> None:
        self._insert("roster_residents", doc)

    async def get_resident(self, resident_id: str, session: Any = None) -> Doc | None:
        return self._get("roster_residents", resident_id)

    async def get_residents(self, ids: list[str], session: Any) -> dict[str, Doc]:
        return self._by_ids("roster_residents", ids)

    async def update_resident(self, resident_id: str, fields: Doc, session: Any) -> None:
        self._set("roster_residents", resident_id, fields)

    async def claim_open_spell(self, resident_id: str, spell_id: str, session: Any) -> bool:
        doc = self.data["roster_residents"].get(resident_id)
        if doc is None or doc.get("open_spell_id") is not None:  # {"open_spell_id": None} matches missing too
            return False
        doc["open_spell_id"] = spell_id
        return True

    # spells and trainings
    async def insert_spell(self, doc: Doc, session: Any) -> None:
        self._insert("spells", doc)

    async def get_spell(self, spell_id: str, session: Any = None) -> Doc | None:
        return self._get("spells", spell_id)

    async def close_spell(self, spell_id: str, *, ended_on: str, reason: str, session: Any) -> None:
        doc = self.data["spells"].get(spell_id)
        if doc is not None and doc["open"] is True:
            doc.update({"open": False, "ended_on": ended_on, "end_reason": reason})

    async def resident_spells(self, resident_id: str) -> list[Doc]:
        return self._sorted("spells", lambda d: d["resident_id"] == resident_id, "started_on")

    async def insert_training(self, doc: Doc, session: Any) -> None:
        self._insert("trainings", doc)

    async def get_training(self, training_id: str) -> Doc | None:
        return self._get("trainings", training_id)

    async def resident_trainings(self, resident_id: str) -> list[Doc]:
        return self._sorted("trainings", lambda d: d["resident_id"] == resident_id, "completed_on")
