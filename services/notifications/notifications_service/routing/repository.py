"""The directory (cadres from the registry's staffing events) and the area names (for
templates), kept from the consumed events by idempotent upserts (a replay converges)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from notifications_service.routing.models import StaffEntry
from notifications_service.rules.domain import role_label
from relocation_shared.areas import LEVEL_LABELS, Level
from relocation_shared.events import Envelope, EventPayload
from relocation_shared.events.governance import AreaRegistered, StaffAssigned, StaffUnassigned
from relocation_shared.mongo import Doc

Session = AsyncClientSession | None


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.directory.create_index(
        [("area_code", ASCENDING), ("role", ASCENDING), ("active", ASCENDING)], name="area_role"
    )
    await db.directory.create_index([("subject", ASCENDING), ("active", ASCENDING)], name="subject")


@dataclass(frozen=True)
class DirectoryWrite:
    """One staffing or area-name change: these fields of this document (created if `upsert`)."""

    collection: str  # directory / areas
    key: str
    fields: Doc
    upsert: bool


def directory_writes(items: list[tuple[Envelope, EventPayload]]) -> list[DirectoryWrite]:
    """The writes that staffing and area events mean, in their order."""
    writes: list[DirectoryWrite] = []
    for env, payload in items:
        if isinstance(payload, StaffAssigned):
            doc = {
                "subject": payload.subject,
                "name_masked": payload.name_masked,
                "role": payload.role,
                "area_code": payload.area_code,
                "area_level": payload.area_level,
                "area_path": list(env.area_path),
                "active": True,
                "assigned_at": env.occurred_at,
                "unassigned_at": None,
            }
            writes.append(DirectoryWrite("directory", payload.staff_id, doc, upsert=True))
        elif isinstance(payload, StaffUnassigned):
            fields = {"active": False, "unassigned_at": env.occurred_at}
            writes.append(DirectoryWrite("directory", payload.staff_id, fields, upsert=False))
        elif isinstance(payload, AreaRegistered):
            fields = {"name": payload.name, "level": payload.level, "parent": payload.parent}
            writes.append(DirectoryWrite("areas", payload.code, fields, upsert=True))
    return writes


def staff_from_doc(d: Doc) -> StaffEntry:
    level = Level(d["area_level"])
    return StaffEntry(
        staff_id=d["_id"],
        subject=d["subject"],
        name_masked=d.get("name_masked", ""),
        role=d["role"],
        role_label=role_label(d["role"]),
        area_code=d["area_code"],
        area_level=level,
        area_level_label=LEVEL_LABELS[level],
        area_path=d.get("area_path", []),
    )


class DirectoryStore(Protocol):
    async def apply_staffing(self, items: list[tuple[Envelope, EventPayload]], session: Session = None) -> None: ...

    async def staff_at(self, area_code: str, role: str, session: Session = None) -> list[Doc]: ...

    async def staff_by_subject(self, subject: str, session: Session = None) -> list[Doc]: ...

    async def directory_for(self, codes: list[str], roles: list[str], subjects: list[str]) -> list[Doc]: ...

    async def staff_in(self, area_code: str, *, limit: int) -> list[Doc]: ...

    async def area_names(self, codes: list[str], session: Session = None) -> dict[str, str]: ...


class MongoDirectoryStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def apply_staffing(self, items: list[tuple[Envelope, EventPayload]], session: Session = None) -> None:
        """Bulk writes to the directory and the area names, in their order (one per collection)."""
        ops: dict[str, list[UpdateOne]] = {}
        for w in directory_writes(items):
            ops.setdefault(w.collection, []).append(UpdateOne({"_id": w.key}, {"$set": w.fields}, upsert=w.upsert))
        for collection, batch in ops.items():
            await self.db[collection].bulk_write(batch, ordered=True, session=session)

    async def staff_at(self, area_code: str, role: str, session: Session = None) -> list[Doc]:
        cursor = self.db.directory.find({"area_code": area_code, "role": role, "active": True}, session=session)
        return await cursor.sort("_id", ASCENDING).to_list(None)

    async def staff_by_subject(self, subject: str, session: Session = None) -> list[Doc]:
        return await self.db.directory.find({"subject": subject, "active": True}, session=session).to_list(None)

    async def directory_for(self, codes: list[str], roles: list[str], subjects: list[str]) -> list[Doc]:
        """The active staff of these roles at these areas, and these subjects' assignments (two
        plain `$in` look-ups on indexed fields: an `$or` would scan the whole directory)."""
        found: dict[str, Doc] = {}
        if codes and roles:
            for d in await self.db.directory.find({"area_code": {"$in": codes}}).to_list(None):
                if d.get("active") and d["role"] in roles:
                    found[d["_id"]] = d
        if subjects:
            for d in await self.db.directory.find({"subject": {"$in": subjects}}).to_list(None):
                if d.get("active"):
                    found[d["_id"]] = d
        return list(found.values())

    async def staff_in(self, area_code: str, *, limit: int) -> list[Doc]:
        cursor = self.db.directory.find({"area_path": area_code, "active": True})
        return await cursor.sort("_id", ASCENDING).limit(limit).to_list(limit)

    async def area_names(self, codes: list[str], session: Session = None) -> dict[str, str]:
        docs = await self.db.areas.find({"_id": {"$in": codes}}, {"name": 1}, session=session).to_list(None)
        return {d["_id"]: d["name"] for d in docs}


class SessionDirectory:
    """The directory as the recipient resolver sees it, read inside the unit of work."""

    def __init__(self, store: DirectoryStore, session: Session) -> None:
        self.store = store
        self.session = session

    async def at(self, area_code: str, role: str) -> list[Doc]:
        return await self.store.staff_at(area_code, role, self.session)

    async def by_subject(self, subject: str) -> list[Doc]:
        return await self.store.staff_by_subject(subject, self.session)
