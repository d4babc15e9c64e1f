"""MongoDB access of the labour-force ledger: the roster built from registry events (collections
roster_households, roster_residents), spells, trainings. Every write takes the unit of work's
session. `EmploymentStore` is what the use cases need; `EmploymentRepository` the real one."""

from __future__ import annotations

from dataclasses import MISSING, Field, asdict
from dataclasses import fields as dataclass_fields
from datetime import date
from enum import Enum
from typing import Any, Protocol, TypeVar, get_args, get_type_hints

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from employment_service.domain import EmploymentSpell, HouseholdLedger, TrainingRecord, Worker
from relocation_shared.idempotency import ensure_idempotency_indexes
from relocation_shared.mongo import Doc, find_in

Session = AsyncClientSession | None


class EmploymentStore(Protocol):
    # roster: households
    async def upsert_household(self, household_id: str, *, area_path: list[str], kind: str, session: Session) -> None:
        """Join the household to the roster (counts at zero), or refresh its area and kind."""

    async def get_household(self, household_id: str, session: Session = None) -> HouseholdLedger | None: ...

    async def save_ledger(self, ledger: HouseholdLedger, session: Session) -> None: ...

    async def zero_households(self, area_code: str, *, limit: int) -> list[HouseholdLedger]:
        """The area's zero-employment households, longest at zero first."""

    # roster: residents
    async def insert_resident(self, worker: Worker, session: Session) -> None: ...

    async def get_resident(self, resident_id: str, session: Session = None) -> Worker | None: ...

    async def get_residents(self, ids: list[str], session: Session) -> dict[str, Worker]: ...

    async def set_labour_capacity(self, resident_id: str, labour_capacity: bool, session: Session) -> None: ...

    async def mark_moved_out(self, resident_id: str, session: Session) -> None: ...

    async def mark_trained(self, resident_id: str, session: Session) -> None: ...

    async def claim_open_spell(self, resident_id: str, spell_id: str, session: Session) -> bool:
        """Set the resident's open spell if they have none: the guard against two open spells."""

    async def release_open_spell(self, resident_id: str, session: Session) -> None: ...

    # spells and trainings
    async def insert_spell(self, spell: EmploymentSpell, session: Session) -> None: ...

    async def get_spell(self, spell_id: str, session: Session = None) -> EmploymentSpell | None: ...

    async def close_spell(self, spell_id: str, *, ended_on: date, reason: str, session: Session) -> None: ...

    async def resident_spells(self, resident_id: str) -> list[EmploymentSpell]: ...

    async def insert_training(self, training: TrainingRecord, session: Session) -> None: ...

    async def get_training(self, training_id: str, session: Session = None) -> TrainingRecord | None: ...

    async def resident_trainings(self, resident_id: str) -> list[TrainingRecord]: ...


# --- documents -----------------------------------------------------------------------------------
# A resident, spell or training is stored as its dataclass's fields, in their order: `id` as `_id`,
# dates as ISO strings (`2026-03-02`), enums as their values. A household of the roster is kept
# under its id by `household_doc` and `ledger_fields`, and read back the same way (`household_id`
# as `_id`).

R = TypeVar("R", Worker, EmploymentSpell, TrainingRecord, HouseholdLedger)
_HINTS = {cls: get_type_hints(cls) for cls in (Worker, EmploymentSpell, TrainingRecord, HouseholdLedger)}
_MISSING = object()


def to_doc(record: Worker | EmploymentSpell | TrainingRecord) -> Doc:
    fields = asdict(record)
    doc: Doc = {"_id": fields.pop("id")}
    for name, value in fields.items():
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, date):
            value = value.isoformat()
        doc[name] = value
    return doc


def from_doc(cls: type[R], doc: Doc, *, id_field: str = "id") -> R:
    """The record stored: `_id` back as `id_field`, ISO dates as dates, values as enums; a field
    missing from an older document takes its default (or None)."""
    hints = _HINTS[cls]
    values = {}
    for f in dataclass_fields(cls):
        value = doc.get("_id" if f.name == id_field else f.name, _MISSING)
        if value is _MISSING:
            value = _default(f)
        values[f.name] = _load(hints[f.name], value)
    return cls(**values)


def _default(f: Field[Any]) -> Any:
    if f.default_factory is not MISSING:
        return f.default_factory()
    return None if f.default is MISSING else f.default


def _load(hint: Any, value: Any) -> Any:
    kinds = get_args(hint) or (hint,)  # `date | None` → (date, NoneType)
    if value is None:
        return None
    if date in kinds:
        return date.fromisoformat(value)
    enum = next((k for k in kinds if isinstance(k, type) and issubclass(k, Enum)), None)
    return enum(value) if enum else value


NEW_HOUSEHOLD: Doc = {"labour_count": 0, "employed_count": 0, "zero_since": None}


def household_doc(household_id: str, *, area_path: list[str], kind: str) -> Doc:
    """The fields a registry event sets on a roster household (the counts are the ledger's)."""
    return {"_id": household_id, "area_path": list(area_path), "kind": kind}


def ledger_fields(ledger: HouseholdLedger) -> Doc:
    return {
        "labour_count": ledger.labour_count,
        "employed_count": ledger.employed_count,
        "zero_since": ledger.zero_since,
    }


def closed_spell_fields(*, ended_on: date, reason: str) -> Doc:
    return {"open": False, "ended_on": ended_on.isoformat(), "end_reason": reason}


# --- the real store ------------------------------------------------------------------------------


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.roster_residents.create_index([("household_id", ASCENDING)], name="household")
    await db.roster_households.create_index([("area_path", ASCENDING), ("zero_since", ASCENDING)], name="zero_by_area")
    await db.spells.create_index([("resident_id", ASCENDING), ("started_on", ASCENDING)], name="resident")
    await db.trainings.create_index([("resident_id", ASCENDING)], name="resident")
    await ensure_idempotency_indexes(db)


class EmploymentRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    # roster: households --------------------------------------------------
    async def upsert_household(self, household_id: str, *, area_path: list[str], kind: str, session: Session) -> None:
        await self.db.roster_households.update_one(
            {"_id": household_id},
            {"$setOnInsert": dict(NEW_HOUSEHOLD), "$set": household_doc(household_id, area_path=area_path, kind=kind)},
            upsert=True,
            session=session,
        )

    async def get_household(self, household_id: str, session: Session = None) -> HouseholdLedger | None:
        doc = await self.db.roster_households.find_one({"_id": household_id}, session=session)
        return from_doc(HouseholdLedger, doc, id_field="household_id") if doc is not None else None

    async def save_ledger(self, ledger: HouseholdLedger, session: Session) -> None:
        await self.db.roster_households.update_one(
            {"_id": ledger.household_id}, {"$set": ledger_fields(ledger)}, session=session
        )

    async def zero_households(self, area_code: str, *, limit: int) -> list[HouseholdLedger]:
        cursor = self.db.roster_households.find({"area_path": area_code, "zero_since": {"$ne": None}})
        return [
            from_doc(HouseholdLedger, d, id_field="household_id")
            for d in await cursor.sort("zero_since", ASCENDING).limit(limit).to_list(limit)
        ]

    # roster: residents ---------------------------------------------------
    async def insert_resident(self, worker: Worker, session: Session) -> None:
        await self.db.roster_residents.insert_one(to_doc(worker), session=session)

    async def get_resident(self, resident_id: str, session: Session = None) -> Worker | None:
        doc = await self.db.roster_residents.find_one({"_id": resident_id}, session=session)
        return from_doc(Worker, doc) if doc is not None else None

    async def get_residents(self, ids: list[str], session: Session) -> dict[str, Worker]:
        docs = await find_in(self.db.roster_residents, "_id", ids, session=session)
        return {d["_id"]: from_doc(Worker, d) for d in docs}

    async def _set_resident(self, resident_id: str, fields: Doc, session: Session) -> None:
        await self.db.roster_residents.update_one({"_id": resident_id}, {"$set": fields}, session=session)

    async def set_labour_capacity(self, resident_id: str, labour_capacity: bool, session: Session) -> None:
        await self._set_resident(resident_id, {"labour_capacity": labour_capacity}, session)

    async def mark_moved_out(self, resident_id: str, session: Session) -> None:
        await self._set_resident(resident_id, {"active": False}, session)

    async def mark_trained(self, resident_id: str, session: Session) -> None:
        await self._set_resident(resident_id, {"trained": True}, session)

    async def claim_open_spell(self, resident_id: str, spell_id: str, session: Session) -> bool:
        result = await self.db.roster_residents.update_one(
            {"_id": resident_id, "open_spell_id": None}, {"$set": {"open_spell_id": spell_id}}, session=session
        )
        return result.modified_count == 1

    async def release_open_spell(self, resident_id: str, session: Session) -> None:
        await self._set_resident(resident_id, {"open_spell_id": None}, session)

    # spells and trainings ------------------------------------------------
    async def insert_spell(self, spell: EmploymentSpell, session: Session) -> None:
        await self.db.spells.insert_one(to_doc(spell), session=session)

    async def get_spell(self, spell_id: str, session: Session = None) -> EmploymentSpell | None:
        doc = await self.db.spells.find_one({"_id": spell_id}, session=session)
        return from_doc(EmploymentSpell, doc) if doc is not None else None

    async def close_spell(self, spell_id: str, *, ended_on: date, reason: str, session: Session) -> None:
        await self.db.spells.update_one(
            {"_id": spell_id, "open": True},
            {"$set": closed_spell_fields(ended_on=ended_on, reason=reason)},
            session=session,
        )

    async def resident_spells(self, resident_id: str) -> list[EmploymentSpell]:
        docs = await self.db.spells.find({"resident_id": resident_id}).sort("started_on", ASCENDING).to_list(None)
        return [from_doc(EmploymentSpell, d) for d in docs]

    async def insert_training(self, training: TrainingRecord, session: Session) -> None:
        await self.db.trainings.insert_one(to_doc(training), session=session)

    async def get_training(self, training_id: str, session: Session = None) -> TrainingRecord | None:
        doc = await self.db.trainings.find_one({"_id": training_id}, session=session)
        return from_doc(TrainingRecord, doc) if doc is not None else None

    async def resident_trainings(self, resident_id: str) -> list[TrainingRecord]:
        cursor = self.db.trainings.find({"resident_id": resident_id}).sort("completed_on", ASCENDING)
        return [from_doc(TrainingRecord, d) for d in await cursor.to_list(None)]
