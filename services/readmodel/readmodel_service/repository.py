"""MongoDB storage of the views. Everything the fold writes lives in one generation of
collections (views_N, daily_N, households_N, seen_N, offsets_N, feed_N); `meta.active` names the
generation being served. A rebuild fills a new generation and switches `meta.active` over in
its last transaction."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

Doc = dict[str, Any]
Session = AsyncClientSession | None
KINDS = ("views", "daily", "households", "seen", "offsets", "feed")


class GenerationChanged(Exception):
    """The generation this writer folds into is no longer the active one."""


class ViewStore:
    def __init__(self, db: AsyncDatabase[Doc], generation: int) -> None:
        self.db = db
        self.generation = generation

    def coll(self, kind: str) -> AsyncCollection[Doc]:
        return self.db[f"{kind}_{self.generation}"]

    @property
    def views(self) -> AsyncCollection[Doc]:
        return self.coll("views")

    async def ensure_indexes(self) -> None:
        await self.views.create_index([("parent", ASCENDING)], name="parent")
        await self.coll("daily").create_index([("bucket", ASCENDING), ("day", ASCENDING)], name="bucket_day")
        await self.coll("seen").create_index([("ids", ASCENDING)], name="ids")
        await self.coll("households").create_index(
            [("area_path", ASCENDING), ("zero_since", ASCENDING)], name="zero_by_area"
        )
        await self.coll("feed").create_index([("area_path", ASCENDING), ("at", DESCENDING)], name="area_at")

    # the fold's writes, all in the caller's transaction ------------------------------------
    async def check_generation(self, session: Session) -> None:
        active = await active_generation(self.db, session)
        if active != self.generation:
            raise GenerationChanged(f"active generation is {active}, not {self.generation}")

    async def unseen(self, ids: list[str], session: Session) -> set[str]:
        """The ids not folded before. Seen ids are kept one document per batch (a multikey
        index over its `ids`): one write per batch instead of one per event."""
        chunks = self.coll("seen").find({"ids": {"$in": ids}}, {"ids": 1}, session=session)
        seen: set[str] = set()
        async for chunk in chunks:
            seen.update(chunk["ids"])
        return set(ids) - seen

    async def seen_count(self) -> int:
        total = 0
        async for chunk in await self.coll("seen").aggregate([{"$project": {"n": {"$size": "$ids"}}}]):
            total += chunk["n"]
        return total

    async def write_fold(
        self,
        *,
        views: list[UpdateOne],
        daily: list[UpdateOne],
        households: list[Any],
        seen: list[str],
        offsets: dict[str, int],
        feed: list[Doc],
        session: Session,
    ) -> None:
        if views:
            await self.views.bulk_write(views, ordered=False, session=session)
        if daily:
            await self.coll("daily").bulk_write(daily, ordered=False, session=session)
        if households:
            await self.coll("households").bulk_write(households, ordered=True, session=session)
        if seen:
            await self.coll("seen").insert_one({"_id": seen[0], "ids": seen}, session=session)
        if feed:
            await self.coll("feed").insert_many(feed, session=session)
        if offsets:
            await self.coll("offsets").bulk_write(
                [UpdateOne({"_id": k}, {"$set": {"next": v}}, upsert=True) for k, v in offsets.items()],
                ordered=False,
                session=session,
            )

    async def stored_offsets(self) -> dict[str, int]:
        return {d["_id"]: d["next"] for d in await self.coll("offsets").find().to_list(None)}

    # reads ---------------------------------------------------------------------------------
    async def view(self, code: str) -> Doc | None:
        return await self.views.find_one({"_id": code})

    async def children(self, code: str) -> list[Doc]:
        return await self.views.find({"parent": code}).sort("_id", ASCENDING).to_list(None)

    async def daily(self, code: str, bucket: str, *, until: date | None = None) -> list[Doc]:
        """The ledger documents of the area's bucket, by day, with only that area's deltas."""
        query: Doc = {"bucket": bucket}
        if until is not None:
            query["day"] = {"$lte": until.isoformat()}
        cursor = self.coll("daily").find(query, {"day": 1, f"areas.{code}": 1})
        return await cursor.sort("day", ASCENDING).to_list(None)

    async def zero_households(self, code: str, *, limit: int) -> list[Doc]:
        cursor = self.coll("households").find({"area_path": code, "zero_since": {"$ne": None}})
        return await cursor.sort("zero_since", ASCENDING).limit(limit).to_list(limit)

    async def feed(self, code: str, *, limit: int) -> list[Doc]:
        cursor = self.coll("feed").find({"area_path": code}).sort("at", DESCENDING).limit(limit)
        return await cursor.to_list(limit)

    async def trim_feed(self, keep: timedelta) -> None:
        await self.coll("feed").delete_many({"at": {"$lt": datetime.now(UTC) - keep}})

    async def drop(self) -> None:
        for kind in KINDS:
            await self.coll(kind).drop()


async def active_generation(db: AsyncDatabase[Doc], session: Session = None) -> int:
    doc = await db.meta.find_one({"_id": "active"}, session=session)
    return int(doc["generation"]) if doc else 1


async def set_active_generation(db: AsyncDatabase[Doc], generation: int, session: Session) -> None:
    await db.meta.update_one(
        {"_id": "active"},
        {"$set": {"generation": generation, "since": datetime.now(UTC)}},
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
