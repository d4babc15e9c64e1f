"""The `staff` collection: one document per (role, area, user), replaced as a whole."""

from __future__ import annotations

from typing import Protocol

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from governance_service.staff.domain import StaffMember, StaffRole
from relocation_shared.areas import Level
from relocation_shared.mongo import Doc


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.staff.create_index([("area_code", ASCENDING), ("role", ASCENDING)], name="area_role")
    await db.staff.create_index([("area_path", ASCENDING), ("_id", ASCENDING)], name="area_path")


def to_doc(m: StaffMember) -> Doc:
    doc: Doc = {
        "_id": m.id,
        "subject": m.subject,
        "name": m.name,
        "role": m.role.value,
        "area_code": m.area_code,
        "area_level": m.area_level.value,
        "area_path": list(m.area_path),
        "active": m.active,
        "assigned_at": m.assigned_at,
        "assigned_by": m.assigned_by,
        "unassigned_at": m.unassigned_at,
    }
    if m.unassigned_by is not None:
        doc["unassigned_by"] = m.unassigned_by
    return doc


def from_doc(d: Doc) -> StaffMember:
    return StaffMember(
        id=d["_id"],
        subject=d["subject"],
        name=d["name"],
        role=StaffRole(d["role"]),
        area_code=d["area_code"],
        area_level=Level(d["area_level"]),
        area_path=list(d["area_path"]),
        active=d["active"],
        assigned_at=d["assigned_at"],
        assigned_by=d.get("assigned_by", ""),
        unassigned_at=d.get("unassigned_at"),
        unassigned_by=d.get("unassigned_by"),
    )


Session = AsyncClientSession | None


class StaffStore(Protocol):
    async def get(self, staff_id: str, session: Session = None) -> StaffMember | None: ...

    async def save(self, member: StaffMember, session: Session = None) -> None: ...

    async def in_area(
        self, area_code: str, *, role: StaffRole | None, active_only: bool, limit: int
    ) -> list[StaffMember]: ...


class MongoStaffStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def get(self, staff_id: str, session: Session = None) -> StaffMember | None:
        doc = await self.db.staff.find_one({"_id": staff_id}, session=session)
        return from_doc(doc) if doc is not None else None

    async def save(self, member: StaffMember, session: Session = None) -> None:
        await self.db.staff.replace_one({"_id": member.id}, to_doc(member), upsert=True, session=session)

    async def in_area(
        self, area_code: str, *, role: StaffRole | None, active_only: bool, limit: int
    ) -> list[StaffMember]:
        """Staff anywhere under the area, by id."""
        query: Doc = {"area_path": area_code}
        if role:
            query["role"] = role.value
        if active_only:
            query["active"] = True
        docs = await self.db.staff.find(query).sort("_id", ASCENDING).limit(limit).to_list(limit)
        return [from_doc(d) for d in docs]
