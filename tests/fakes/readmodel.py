"""In-memory fakes for the read model's unit tests: one generation's collections over dicts,
written by the fold (through the repository's own document mapping, so the documents are those
MongoDB would hold) and read by the queries, and a client whose transactions keep all of a
batch's writes or none."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any, TypeVar

from readmodel_service.fold.plan import FoldPlan
from readmodel_service.fold.repository import (
    KINDS,
    FoldStorage,
    FoldStore,
    GenerationChanged,
    documents,
    feed_documents,
)
from readmodel_service.views.repository import ViewReads, ViewStore
from relocation_shared.mongo import Doc
from tests.fakes.collections import FakeCollections
from tests.fakes.registry import Pair

T = TypeVar("T")


class FakeFoldStore(FakeCollections):
    COLLECTIONS = KINDS

    def __init__(self, generation: int = 1) -> None:
        super().__init__()
        self.generation = generation
        self.active = generation

    async def check_generation(self, session: Any) -> None:
        if self.active != self.generation:
            raise GenerationChanged(f"active generation is {self.active}, not {self.generation}")

    async def offsets_of(self, keys: list[str], session: Any) -> dict[str, int]:
        return {k: d["next"] for k, d in self._by_ids("offsets", keys).items()}

    async def seen_chunks(self, *, tp: str | None = None, from_offset: int = 0, session: Any = None) -> list[Doc]:
        docs = self.data["seen"].values()
        chosen = [d for d in docs if tp is None or (d["tp"] == tp and d["first"] >= from_offset)]
        return [{"_id": d["_id"], "tp": d["tp"], "next": d["next"], "h": d["h"]} for d in chosen]

    async def seen_ids_in(self, doc_ids: list[str], session: Any) -> set[str]:
        out: set[str] = set()
        for d in self._by_ids("seen", doc_ids).values():
            ids = d["ids"]
            out.update(ids.split("\n") if isinstance(ids, str) else ids)
        return out

    async def write_fold(
        self, *, plan: FoldPlan, seen: list[Doc], offsets: dict[str, int], now: datetime, session: Any
    ) -> None:
        views, daily = documents(
            plan,
            views=self._by_ids("views", plan.storage_ids()),
            daily=self._by_ids("daily", plan.daily_ids()),
            now=now,
        )
        for doc in [*views, *daily]:
            kind = "daily" if "bucket" in doc else "views"
            self.data[kind].pop(doc["_id"], None)
            self._insert(kind, doc)
        for change in plan.households:
            self.data["households"].pop(change.household_id, None)
            if change.since is not None:
                self._insert(
                    "households",
                    {
                        "_id": change.household_id,
                        "area_path": list(change.area_path),
                        "labour": change.labour_count,
                        "zero_since": change.since,
                    },
                )
        for doc in [*seen, *feed_documents(plan.latest)]:
            self._insert("seen" if "tp" in doc else "feed", doc)
        for key, next_offset in offsets.items():
            self.data["offsets"][key] = {"_id": key, "next": next_offset}


class FakeViewStore(FakeFoldStore):
    async def view(self, code: str) -> Doc | None:
        community, _, rest = code.partition("-")
        if not rest:
            doc = self._get("views", code)
            return {k: v for k, v in doc.items() if k != "sub"} if doc else None
        sub = ((self._get("views", community) or {}).get("sub") or {}).get(code)
        return {"_id": code, **sub} if sub else None

    async def children(self, code: str) -> list[Doc]:
        community, _, rest = code.partition("-")
        docs = [] if rest else self._sorted("views", lambda d: d.get("parent") == code, "_id")
        docs = [{k: v for k, v in d.items() if k != "sub"} for d in docs]
        for sub_code, sub in ((self._get("views", community) or {}).get("sub") or {}).items():
            if sub.get("parent") == code:
                docs.append({"_id": sub_code, **sub})
        return sorted(docs, key=lambda d: d["_id"])

    async def daily(self, code: str, bucket: str, *, until: date | None = None) -> list[Doc]:
        def wanted(d: Doc) -> bool:
            return d["bucket"] == bucket and (until is None or d["day"] <= until.isoformat())

        days = self._sorted("daily", wanted, "day")
        return [
            {"_id": d["_id"], "day": d["day"], "areas": {code: d["areas"][code]} if code in d["areas"] else {}}
            for d in days
        ]

    async def zero_households(self, code: str, *, limit: int) -> list[Doc]:
        def wanted(d: Doc) -> bool:
            return code in d["area_path"] and d.get("zero_since") is not None

        return self._sorted("households", wanted, "zero_since")[:limit]

    async def feed(self, code: str, *, limit: int) -> list[Doc]:
        docs = self._sorted("feed", lambda d: code in d["area_path"], "at")
        return list(reversed(docs))[:limit]


class FakeSession:
    """A transaction over a fake store: its writes are kept if the body returns, undone if it raises."""

    def __init__(self, store: FakeCollections) -> None:
        self.store = store

    async def __aenter__(self) -> FakeSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def with_transaction(self, fn: Callable[[FakeSession], Awaitable[T]], **_: Any) -> T:
        state = copy.deepcopy(self.store.snapshot())
        try:
            return await fn(self)
        except BaseException:
            self.store.restore(state)
            raise


class FakeClient:
    """Stands for the MongoDB client `in_transaction` is given."""

    def __init__(self, store: FakeCollections) -> None:
        self.store = store

    def start_session(self) -> FakeSession:
        return FakeSession(self.store)


PAIRS = [
    Pair(protocol=FoldStorage, real=FoldStore, fake=FakeFoldStore),
    Pair(protocol=ViewReads, real=ViewStore, fake=FakeViewStore),
]
