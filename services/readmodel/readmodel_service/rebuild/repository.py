"""The generations a rebuild creates and switches to (`meta.generations`, `meta.active`)."""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from readmodel_service.fold.repository import Session, active_generation
from relocation_shared.mongo import Doc


async def set_active_generation(db: AsyncDatabase[Doc], generation: int, session: Session, *, now: datetime) -> None:
    await db.meta.update_one(
        {"_id": "active"},
        {"$set": {"generation": generation, "since": now}},
        upsert=True,
        session=session,
    )


async def next_generation(db: AsyncDatabase[Doc]) -> int:
    doc = await db.meta.find_one_and_update(
        {"_id": "generations"}, {"$inc": {"last": 1}}, upsert=True, return_document=True
    )
    last = int(doc["last"]) if doc else 1
    active = await active_generation(db)
    if last <= active:  # the counter starts behind the first, implicit generation 1
        doc = await db.meta.find_one_and_update(
            {"_id": "generations"}, {"$set": {"last": active + 1}}, return_document=True
        )
        last = active + 1
    return last
