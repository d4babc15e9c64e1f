"""MongoDB storage of the views. Everything the fold writes lives in one generation of
collections (views_N, daily_N, households_N, seen_N, offsets_N, feed_N); `meta.active` names the
generation being served. A rebuild fills a new generation and switches `meta.active` over in
its last transaction.

The fold reads the documents a batch touches and writes them back whole (replace), inside its
transaction: a whole-document write costs about the same as one `$inc` of a single field on the
MongoDB-protocol server of the tests, and a batch's deltas touch many fields."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReplaceOne, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from relocation_shared.mongo import find_in

Doc = dict[str, Any]
# A view document: {_id: area code, level, parent, path, name, counters, updated_at}; a community's
# also holds its grids' and buildings' views, by code, in `sub` (one document a batch writes for
# a community and everything under it).
Session = AsyncClientSession | None
KINDS = ("views", "daily", "households", "seen", "offsets", "feed")
# A seen document: {_id: "topic:partition@first offset", tp, first, next, n, ids: the batch's fresh
# event ids of that partition joined by newlines (one string encodes far faster than an array of
# thousands; an array if an id holds a newline), h: their 8-byte hashes packed (what the
# in-memory filter loads)}.


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
        await self.coll("seen").create_index([("tp", ASCENDING), ("first", ASCENDING)], name="tp_first")
        await self.coll("households").create_index(
            [("area_path", ASCENDING), ("zero_since", ASCENDING)], name="zero_by_area"
        )
        await self.coll("feed").create_index([("area_path", ASCENDING), ("at", DESCENDING)], name="area_at")

    # the fold's writes, all in the caller's transaction ------------------------------------
    async def check_generation(self, session: Session) -> None:
        active = await active_generation(self.db, session)
        if active != self.generation:
            raise GenerationChanged(f"active generation is {active}, not {self.generation}")

    async def offsets_of(self, keys: list[str], session: Session) -> dict[str, int]:
        docs = await find_in(self.coll("offsets"), "_id", keys, session=session)
        return {d["_id"]: d["next"] for d in docs}

    async def current_views(self, codes: list[str], session: Session) -> dict[str, Doc]:
        return {d["_id"]: d for d in await find_in(self.views, "_id", codes, session=session)}

    async def current_daily(self, ids: list[str], session: Session) -> dict[str, Doc]:
        return {d["_id"]: d for d in await find_in(self.coll("daily"), "_id", ids, session=session)}

    async def seen_chunks(self, *, tp: str | None = None, from_offset: int = 0, session: Session = None) -> list[Doc]:
        """The seen documents' hashes (not their ids): all of them, or a partition's from an offset."""
        query: Doc = {} if tp is None else {"tp": tp, "first": {"$gte": from_offset}}
        return await self.coll("seen").find(query, {"tp": 1, "next": 1, "h": 1}, session=session).to_list(None)

    async def seen_ids_in(self, doc_ids: list[str], session: Session) -> set[str]:
        out: set[str] = set()
        for d in await find_in(self.coll("seen"), "_id", doc_ids, projection={"ids": 1}, session=session):
            ids = d["ids"]
            out.update(ids.split("\n") if isinstance(ids, str) else ids)
        return out

    async def seen_count(self) -> int:
        total = 0
        async for chunk in await self.coll("seen").aggregate([{"$group": {"_id": None, "n": {"$sum": "$n"}}}]):
            total += chunk["n"]
        return total

    async def write_fold(
        self,
        *,
        views: list[Doc],
        daily: list[Doc],
        households: list[Any],
        seen: list[Doc],
        offsets: dict[str, int],
        feed: list[Doc],
        session: Session,
    ) -> None:
        if views:
            await self.views.bulk_write(
                [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in views], ordered=False, session=session
            )
        if daily:
            await self.coll("daily").bulk_write(
                [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in daily], ordered=False, session=session
            )
        if households:
            await self.coll("households").bulk_write(households, ordered=True, session=session)
        if seen:
            await self.coll("seen").insert_many(seen, ordered=False, session=session)
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
        """An area's view document; a grid's or a building's is taken out of its community's."""
        community, _, rest = code.partition("-")
        if not rest:
            return await self.views.find_one({"_id": code}, {"sub": 0})
        doc = await self.views.find_one({"_id": community}, {f"sub.{code}": 1})
        sub = (doc or {}).get("sub", {}).get(code)
        return {"_id": code, **sub} if sub else None

    async def children(self, code: str) -> list[Doc]:
        """The views one level down: their own documents, or (below a community) the grids and
        buildings kept inside the community's."""
        community, _, rest = code.partition("-")
        docs = await self.views.find({"parent": code}, {"sub": 0}).to_list(None) if not rest else []
        holder = await self.views.find_one({"_id": community}, {"sub": 1})
        for sub_code, sub in ((holder or {}).get("sub") or {}).items():
            if sub.get("parent") == code:
                docs.append({"_id": sub_code, **sub})
        return sorted(docs, key=lambda d: d["_id"])

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

    async def drop(self) -> None:
        for kind in KINDS:
            await self.coll(kind).drop()


async def active_generation(db: AsyncDatabase[Doc], session: Session = None) -> int:
    doc = await db.meta.find_one({"_id": "active"}, session=session)
    return int(doc["generation"]) if doc else 1


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
