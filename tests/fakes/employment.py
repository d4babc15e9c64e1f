"""In-memory fake of the labour ledger's store (`EmploymentStore`): the methods of
`EmploymentRepository` with the same names and parameters (sessions ignored), keeping the very
documents the real one writes (its mapping functions)."""

from __future__ import annotations

from datetime import date

from employment_service.domain import EmploymentSpell, HouseholdLedger, TrainingRecord, Worker
from employment_service.repository import (
    NEW_HOUSEHOLD,
    EmploymentRepository,
    EmploymentStore,
    Session,
    closed_spell_fields,
    from_doc,
    household_doc,
    ledger_fields,
    to_doc,
)
from tests.fakes.collections import FakeCollections, _stored
from tests.fakes.registry import Pair

# --- the labour-force ledger -------------------------------------------------------------------


class FakeEmploymentRepository(FakeCollections):
    COLLECTIONS = ("roster_households", "roster_residents", "spells", "trainings")

    # roster: households
    async def upsert_household(self, household_id: str, *, area_path: list[str], kind: str, session: Session) -> None:
        current = self.data["roster_households"].get(household_id)
        if current is None:
            current = dict(NEW_HOUSEHOLD)
            self.data["roster_households"][household_id] = current
        current.update(_stored(household_doc(household_id, area_path=area_path, kind=kind)))

    async def get_household(self, household_id: str, session: Session = None) -> HouseholdLedger | None:
        doc = self._get("roster_households", household_id)
        return from_doc(HouseholdLedger, doc, id_field="household_id") if doc is not None else None

    async def save_ledger(self, ledger: HouseholdLedger, session: Session) -> None:
        self._set("roster_households", ledger.household_id, ledger_fields(ledger))

    async def zero_households(self, area_code: str, *, limit: int) -> list[HouseholdLedger]:
        rows = self._sorted(
            "roster_households",
            lambda d: area_code in d["area_path"] and d.get("zero_since") is not None,
            "zero_since",
        )
        return [from_doc(HouseholdLedger, d, id_field="household_id") for d in rows[:limit]]

    # roster: residents
    async def insert_resident(self, worker: Worker, session: Session) -> None:
        self._insert("roster_residents", to_doc(worker))

    async def get_resident(self, resident_id: str, session: Session = None) -> Worker | None:
        doc = self._get("roster_residents", resident_id)
        return from_doc(Worker, doc) if doc is not None else None

    async def get_residents(self, ids: list[str], session: Session) -> dict[str, Worker]:
        return {k: from_doc(Worker, d) for k, d in self._by_ids("roster_residents", ids).items()}

    async def set_labour_capacity(self, resident_id: str, labour_capacity: bool, session: Session) -> None:
        self._set("roster_residents", resident_id, {"labour_capacity": labour_capacity})

    async def mark_moved_out(self, resident_id: str, session: Session) -> None:
        self._set("roster_residents", resident_id, {"active": False})

    async def mark_trained(self, resident_id: str, session: Session) -> None:
        self._set("roster_residents", resident_id, {"trained": True})

    async def claim_open_spell(self, resident_id: str, spell_id: str, session: Session) -> bool:
        doc = self.data["roster_residents"].get(resident_id)
        if doc is None or doc.get("open_spell_id") is not None:  # {"open_spell_id": None} matches missing too
            return False
        doc["open_spell_id"] = spell_id
        return True

    async def release_open_spell(self, resident_id: str, session: Session) -> None:
        self._set("roster_residents", resident_id, {"open_spell_id": None})

    # spells and trainings
    async def insert_spell(self, spell: EmploymentSpell, session: Session) -> None:
        self._insert("spells", to_doc(spell))

    async def get_spell(self, spell_id: str, session: Session = None) -> EmploymentSpell | None:
        doc = self._get("spells", spell_id)
        return from_doc(EmploymentSpell, doc) if doc is not None else None

    async def close_spell(self, spell_id: str, *, ended_on: date, reason: str, session: Session) -> None:
        doc = self.data["spells"].get(spell_id)
        if doc is not None and doc["open"] is True:
            doc.update(closed_spell_fields(ended_on=ended_on, reason=reason))

    async def resident_spells(self, resident_id: str) -> list[EmploymentSpell]:
        return [
            from_doc(EmploymentSpell, d)
            for d in self._sorted("spells", lambda d: d["resident_id"] == resident_id, "started_on")
        ]

    async def insert_training(self, training: TrainingRecord, session: Session) -> None:
        self._insert("trainings", to_doc(training))

    async def get_training(self, training_id: str, session: Session = None) -> TrainingRecord | None:
        doc = self._get("trainings", training_id)
        return from_doc(TrainingRecord, doc) if doc is not None else None

    async def resident_trainings(self, resident_id: str) -> list[TrainingRecord]:
        rows = self._sorted("trainings", lambda d: d["resident_id"] == resident_id, "completed_on")
        return [from_doc(TrainingRecord, d) for d in rows]


PAIRS = [Pair(protocol=EmploymentStore, real=EmploymentRepository, fake=FakeEmploymentRepository)]
