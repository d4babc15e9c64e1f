"""Reading the views of a generation: an area's view and its children's, the daily ledger of
its bucket, the zero-employment list and the feed (the documents are those the fold writes,
described in fold/repository.py)."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from pymongo import ASCENDING, DESCENDING

from readmodel_service.fold.repository import FoldStore
from relocation_shared.mongo import Doc


class ViewReads(Protocol):
    """What the queries read of the active generation."""

    async def view(self, code: str) -> Doc | None: ...
    async def children(self, code: str) -> list[Doc]: ...
    async def daily(self, code: str, bucket: str, *, until: date | None = None) -> list[Doc]: ...
    async def zero_households(self, code: str, *, limit: int) -> list[Doc]: ...
    async def feed(self, code: str, *, limit: int) -> list[Doc]: ...


class ViewStore(FoldStore):
    """One generation's collections, with the queries' reads."""

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

    def stream_pipeline(self, area: str, view_id: str) -> list[Doc]:
        """The change-stream filter of an area's live stream: its view document (`view_id`, its
        own or its community's), its children's, and new feed entries in it."""
        return [
            {
                "$match": {
                    "$or": [
                        {"ns.coll": self.views.name, "documentKey._id": {"$in": [view_id]}},
                        {"ns.coll": self.views.name, "fullDocument.parent": area},
                        {"ns.coll": self.coll("feed").name, "operationType": "insert", "fullDocument.area_path": area},
                    ]
                }
            }
        ]
