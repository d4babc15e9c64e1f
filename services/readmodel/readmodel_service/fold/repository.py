"""MongoDB storage of what the fold writes. Everything lives in one generation of collections
(views_N, daily_N, households_N, seen_N, offsets_N, feed_N); `meta.active` names the generation
being served. A rebuild fills a new generation and switches `meta.active` over in its last
transaction.

The fold reads the documents a batch touches and writes them back whole (replace), inside its
transaction: a whole-document write costs about the same as one `$inc` of a single field on the
MongoDB-protocol server of the tests, and a batch's deltas touch many fields.

A view document: {_id: area code, level, parent, path, name, counters, updated_at}; a
community's also holds its grids' and buildings' views, by code, in `sub` (one document a batch
writes for a community and everything under it). A ledger document: {_id: "bucket|day", bucket,
day, areas: {code: counter deltas}}. A seen document: {_id: "topic:partition@first offset", tp,
first, next, n, ids: the batch's fresh event ids of that partition joined by newlines (one string
encodes far faster than an array of thousands; an array if an id holds a newline), h: their
8-byte hashes packed (what the in-memory filter loads)}."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

import numpy as np
from bson import Binary
from pymongo import ASCENDING, DESCENDING, DeleteOne, ReplaceOne, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from readmodel_service.fold.feed import EVENT_LABELS, feed_detail
from readmodel_service.fold.plan import FoldPlan, ZeroChange, daily_id, storage_id
from readmodel_service.indicators import EventHead
from relocation_shared.events import EventPayload
from relocation_shared.mongo import Doc, find_in

Session = AsyncClientSession | None
KINDS = ("views", "daily", "households", "seen", "offsets", "feed")


class GenerationChanged(Exception):
    """The generation this writer folds into is no longer the active one."""


def tp_key(topic: str, partition: int) -> str:
    """The key of a partition's stored next offset and of its seen documents."""
    return f"{topic}:{partition}"


async def active_generation(db: AsyncDatabase[Doc], session: Session = None) -> int:
    doc = await db.meta.find_one({"_id": "active"}, session=session)
    return int(doc["generation"]) if doc else 1


class FoldStorage(Protocol):
    """What folding a batch reads and writes, in the batch's transaction."""

    async def check_generation(self, session: Session) -> None: ...
    async def offsets_of(self, keys: list[str], session: Session) -> dict[str, int]: ...
    async def seen_chunks(
        self, *, tp: str | None = None, from_offset: int = 0, session: Session = None
    ) -> list[Doc]: ...
    async def seen_ids_in(self, doc_ids: list[str], session: Session) -> set[str]: ...
    async def write_fold(
        self, *, plan: FoldPlan, seen: list[Doc], offsets: dict[str, int], now: datetime, session: Session
    ) -> None: ...


class FoldStore:
    """One generation's collections, as the fold writes them (all in the caller's transaction)."""

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

    async def drop(self) -> None:
        for kind in KINDS:
            await self.coll(kind).drop()

    async def check_generation(self, session: Session) -> None:
        active = await active_generation(self.db, session)
        if active != self.generation:
            raise GenerationChanged(f"active generation is {active}, not {self.generation}")

    async def offsets_of(self, keys: list[str], session: Session) -> dict[str, int]:
        docs = await find_in(self.coll("offsets"), "_id", keys, session=session)
        return {d["_id"]: d["next"] for d in docs}

    async def stored_offsets(self) -> dict[str, int]:
        return {d["_id"]: d["next"] for d in await self.coll("offsets").find().to_list(None)}

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
        self, *, plan: FoldPlan, seen: list[Doc], offsets: dict[str, int], now: datetime, session: Session
    ) -> None:
        """A batch's writes: the touched views and ledger days as they stand after it (read in
        the transaction, its deltas added), the zero-employment list, the seen ids, the feed and
        the partitions' next offsets."""
        views, daily = documents(
            plan,
            views=await self.current_views(plan.storage_ids(), session),
            daily=await self.current_daily(plan.daily_ids(), session),
            now=now,
        )
        if views:
            await self.views.bulk_write(
                [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in views], ordered=False, session=session
            )
        if daily:
            await self.coll("daily").bulk_write(
                [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in daily], ordered=False, session=session
            )
        if plan.households:
            await self.coll("households").bulk_write(household_ops(plan.households), ordered=True, session=session)
        if seen:
            await self.coll("seen").insert_many(seen, ordered=False, session=session)
        if plan.latest:
            await self.coll("feed").insert_many(feed_documents(plan.latest), session=session)
        await self.write_offsets(offsets, session)

    async def write_offsets(self, offsets: dict[str, int], session: Session) -> None:
        if offsets:
            await self.coll("offsets").bulk_write(
                [UpdateOne({"_id": k}, {"$set": {"next": v}}, upsert=True) for k, v in offsets.items()],
                ordered=False,
                session=session,
            )


def documents(
    plan: FoldPlan, *, views: dict[str, Doc], daily: dict[str, Doc], now: datetime
) -> tuple[list[Doc], list[Doc]]:
    """The touched view and ledger documents as they stand after this batch: the current ones
    (`views`, `daily`, by id, as read in the batch's transaction) with its deltas added."""
    return view_documents(plan, views, now), daily_documents(plan, daily)


def view_documents(plan: FoldPlan, views: dict[str, Doc], now: datetime) -> list[Doc]:
    """A grid's and a building's view live inside their community's document (`sub`)."""
    docs: dict[str, Doc] = {}
    deltas_of = plan.views
    for code, meta in plan.view_meta.items():
        sid = storage_id(code)
        if sid not in docs:
            docs[sid] = dict(views.get(sid) or {"_id": sid})
            if "sub" in docs[sid]:
                docs[sid]["sub"] = dict(docs[sid]["sub"])
        doc = docs[sid]
        if sid == code:
            target = doc
        else:
            sub = doc.setdefault("sub", {})
            target = sub[code] = dict(sub.get(code) or {})
        target.update(meta)
        counters = dict(target.get("counters") or {})
        for k, v in deltas_of.get(code, {}).items():
            if v:
                counters[k] = counters.get(k, 0) + v
        target["counters"] = counters
        target["updated_at"] = now
        doc["updated_at"] = now
    return list(docs.values())


def daily_documents(plan: FoldPlan, daily: dict[str, Doc]) -> list[Doc]:
    daily_docs = []
    for (bucket, day), deltas in plan.daily.items():
        if not any(v for area in deltas.values() for v in area.values()):
            continue
        key = daily_id(bucket, day)
        current = daily.get(key) or {}
        areas = {code: dict(c) for code, c in (current.get("areas") or {}).items()}
        for code, area_deltas in deltas.items():
            area = areas.setdefault(code, {})
            for k, v in area_deltas.items():
                if v:
                    area[k] = area.get(k, 0) + v
        daily_docs.append({"_id": key, "bucket": bucket, "day": day, "areas": areas})
    return daily_docs


def household_ops(changes: list[ZeroChange]) -> list[ReplaceOne[Doc] | DeleteOne]:
    """The zero-employment list: a household is in it from its alert to its clearing."""
    return [
        ReplaceOne(
            {"_id": c.household_id},
            {"area_path": list(c.area_path), "labour": c.labour_count, "zero_since": c.since},
            upsert=True,
        )
        if c.since is not None
        else DeleteOne({"_id": c.household_id})
        for c in changes
    ]


def feed_documents(latest: Iterable[tuple[EventHead, EventPayload]]) -> list[Doc]:
    return [
        {
            "_id": env.id,
            "type": env.type,
            "label": EVENT_LABELS.get(env.type, env.type),
            "area_path": list(env.area_path),
            "at": env.occurred_at,
            "detail": feed_detail(payload),
        }
        for env, payload in latest
    ]


def seen_document(key: str, *, first: int, next_offset: int, ids: list[str], hashes: dict[str, int]) -> Doc:
    """One partition's fresh event ids of one batch (see the module's docstring)."""
    return {
        "_id": f"{key}@{first}",
        "tp": key,
        "first": first,
        "next": next_offset,
        "n": len(ids),
        "ids": ids if any("\n" in i for i in ids) else "\n".join(ids),
        "h": Binary(np.fromiter((hashes[i] for i in ids), "<u8", len(ids)).tobytes()),
    }
