"""In-memory fakes for the registry's and the labour ledger's use cases (cosmicpython style).

`FakeUnitOfWork` has the interface of `relocation_shared.outbox.UnitOfWork`: `run(fn,
correlation_id=None)` gives the use case a `Tx` (no session) and, when it returns, keeps the
events it recorded in `published`; when it raises, the events are dropped and every fake
repository it was given is put back as it was (the transaction's rollback). Each published
event is also serialised and parsed back through the catalog, as the outbox and a consumer would.

`FakeEmploymentRepository` and `FakeGovernanceRepository` have exactly the public methods of
`EmploymentRepository` and `GovernanceRepository` (same names and parameters; sessions are
ignored) over dicts of documents, with MongoDB's behaviours that the use cases rely on: copies
in and out, unique `_id` (and unique `national_id_hash`), `{"field": None}` matching a missing
field, datetimes kept to the millisecond.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any, Protocol, TypeVar

from pymongo.errors import DuplicateKeyError

from employment_service.models import HouseholdLedger
from relocation_shared.events import CATALOG, Envelope, EventPayload
from relocation_shared.outbox import Tx

T = TypeVar("T")
Doc = dict[str, Any]


class Snapshotting(Protocol):
    def snapshot(self) -> Any: ...

    def restore(self, state: Any) -> None: ...


class FakeUnitOfWork:
    def __init__(self, repos: Iterable[Snapshotting] = (), *, producer: str = "test") -> None:
        self.repos = list(repos)
        self.producer = producer
        self.published: list[Envelope] = []
        self.runs = 0
        self.rollbacks = 0

    async def run(self, fn: Callable[[Tx], Awaitable[T]], *, correlation_id: str | None = None) -> T:
        self.runs += 1
        states = [r.snapshot() for r in self.repos]
        tx = Tx(session=None, producer=self.producer, correlation_id=correlation_id)
        try:
            result = await fn(tx)
        except BaseException:
            self.rollbacks += 1
            for repo, state in zip(self.repos, states, strict=True):
                repo.restore(state)
            raise
        for env in tx.events:  # what the outbox stores and a consumer reads back
            parsed, _ = CATALOG.parse(env.to_bytes())
            assert parsed == env
        self.published.extend(tx.events)
        return result

    # reading what was published ----------------------------------------------------------------
    def types(self) -> list[str]:
        return [e.type for e in self.published]

    def payloads(self, model: type[EventPayload] | None = None) -> list[Any]:
        out = [CATALOG.payload_of(e) for e in self.published]
        return [p for p in out if model is None or isinstance(p, model)]

    def clear(self) -> None:
        self.published.clear()


def _stored(value: Any) -> Any:
    """A deep copy as MongoDB would keep it: datetimes to the millisecond, tuples as lists."""
    if isinstance(value, dict):
        return {k: _stored(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_stored(v) for v in value]
    if isinstance(value, datetime):
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    return copy.deepcopy(value)


class _FakeCollections:
    COLLECTIONS: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Doc]] = {c: {} for c in self.COLLECTIONS}

    def snapshot(self) -> dict[str, dict[str, Doc]]:
        return copy.deepcopy(self.data)

    def restore(self, state: dict[str, dict[str, Doc]]) -> None:
        self.data = state

    def _get(self, collection: str, key: str) -> Doc | None:
        doc = self.data[collection].get(key)
        return copy.deepcopy(doc) if doc is not None else None

    def _by_ids(self, collection: str, ids: Iterable[str]) -> dict[str, Doc]:
        return {i: copy.deepcopy(self.data[collection][i]) for i in set(ids) if i in self.data[collection]}

    def _insert(self, collection: str, doc: Doc) -> None:
        if doc["_id"] in self.data[collection]:
            raise DuplicateKeyError(f"E11000 duplicate key {collection} _id {doc['_id']}")
        self.data[collection][doc["_id"]] = _stored(doc)

    def _set(self, collection: str, key: str, fields: Doc) -> bool:
        doc = self.data[collection].get(key)
        if doc is None:
            return False
        doc.update(_stored(fields))
        return True

    def _sorted(self, collection: str, where: Callable[[Doc], bool], key: str) -> list[Doc]:
        return copy.deepcopy(sorted((d for d in self.data[collection].values() if where(d)), key=lambda d: d[key]))

    def all_documents(self) -> list[Doc]:
        return [copy.deepcopy(d) for c in self.data.values() for d in c.values()]


# --- the labour-force ledger -------------------------------------------------------------------


class FakeEmploymentRepository(_FakeCollections):
    COLLECTIONS = ("roster_households", "roster_residents", "spells", "trainings")

    # roster
    async def upsert_household(self, doc: Doc, session: Any) -> None:
        current = self.data["roster_households"].get(doc["_id"])
        if current is None:
            current = {"labour_count": 0, "employed_count": 0, "zero_since": None}
            self.data["roster_households"][doc["_id"]] = current
        current.update(_stored(doc))

    async def get_household(self, household_id: str, session: Any = None) -> Doc | None:
        return self._get("roster_households", household_id)

    async def save_ledger(self, ledger: HouseholdLedger, session: Any) -> None:
        self._set(
            "roster_households",
            ledger.household_id,
            {
                "labour_count": ledger.labour_count,
                "employed_count": ledger.employed_count,
                "zero_since": ledger.zero_since,
            },
        )

    async def zero_households(self, area_code: str, *, limit: int) -> list[Doc]:
        rows = self._sorted(
            "roster_households",
            lambda d: area_code in d["area_path"] and d.get("zero_since") is not None,
            "zero_since",
        )
        return rows[:limit]

    async def insert_resident(self, doc: Doc, session: Any) -> None:
        self._insert("roster_residents", doc)

    async def get_resident(self, resident_id: str, session: Any = None) -> Doc | None:
        return self._get("roster_residents", resident_id)

    async def get_residents(self, ids: list[str], session: Any) -> dict[str, Doc]:
        return self._by_ids("roster_residents", ids)

    async def update_resident(self, resident_id: str, fields: Doc, session: Any) -> None:
        self._set("roster_residents", resident_id, fields)

    async def claim_open_spell(self, resident_id: str, spell_id: str, session: Any) -> bool:
        doc = self.data["roster_residents"].get(resident_id)
        if doc is None or doc.get("open_spell_id") is not None:  # {"open_spell_id": None} matches missing too
            return False
        doc["open_spell_id"] = spell_id
        return True

    # spells and trainings
    async def insert_spell(self, doc: Doc, session: Any) -> None:
        self._insert("spells", doc)

    async def get_spell(self, spell_id: str, session: Any = None) -> Doc | None:
        return self._get("spells", spell_id)

    async def close_spell(self, spell_id: str, *, ended_on: str, reason: str, session: Any) -> None:
        doc = self.data["spells"].get(spell_id)
        if doc is not None and doc["open"] is True:
            doc.update({"open": False, "ended_on": ended_on, "end_reason": reason})

    async def resident_spells(self, resident_id: str) -> list[Doc]:
        return self._sorted("spells", lambda d: d["resident_id"] == resident_id, "started_on")

    async def insert_training(self, doc: Doc, session: Any) -> None:
        self._insert("trainings", doc)

    async def get_training(self, training_id: str) -> Doc | None:
        return self._get("trainings", training_id)

    async def resident_trainings(self, resident_id: str) -> list[Doc]:
        return self._sorted("trainings", lambda d: d["resident_id"] == resident_id, "completed_on")


# --- the registry --------------------------------------------------------------------------------


class FakeGovernanceRepository(_FakeCollections):
    COLLECTIONS = ("areas", "households", "residents")

    # areas
    async def upsert_areas(self, areas: list[Doc], session: Any) -> None:
        for a in areas:
            self.data["areas"].setdefault(a["_id"], {}).update(_stored(a))

    async def get_area(self, code: str, session: Any = None) -> Doc | None:
        return self._get("areas", code)

    async def get_areas(self, codes: list[str], session: Any = None) -> dict[str, Doc]:
        return self._by_ids("areas", codes)

    async def insert_area(self, doc: Doc, session: Any) -> None:
        self._insert("areas", doc)

    async def children(self, parent: str) -> list[Doc]:
        return self._sorted("areas", lambda d: d.get("parent") == parent, "_id")

    # households
    async def insert_household(self, doc: Doc, session: Any) -> None:
        self._insert("households", doc)

    async def get_household(self, household_id: str, session: Any = None) -> Doc | None:
        return self._get("households", household_id)

    async def get_households(self, ids: list[str], session: Any = None) -> dict[str, Doc]:
        return self._by_ids("households", ids)

    async def list_households(self, area_code: str, *, after: str | None, limit: int) -> list[Doc]:
        rows = self._sorted(
            "households", lambda d: area_code in d["area_path"] and (after is None or d["_id"] > after), "_id"
        )
        return rows[:limit]

    # residents
    async def insert_residents(self, docs: list[Doc], session: Any) -> None:
        hashes = {d["national_id_hash"] for d in self.data["residents"].values()}
        for d in docs:  # the unique index on national_id_hash
            if d["national_id_hash"] in hashes:
                raise DuplicateKeyError("E11000 duplicate key residents national_id_hash")
            hashes.add(d["national_id_hash"])
        for d in docs:
            self._insert("residents", d)

    async def get_resident(self, resident_id: str, session: Any = None) -> Doc | None:
        return self._get("residents", resident_id)

    async def existing_id_hashes(self, hashes: list[str], session: Any = None) -> set[str]:
        wanted = set(hashes)
        return {d["national_id_hash"] for d in self.data["residents"].values() if d["national_id_hash"] in wanted}

    async def update_resident(self, resident_id: str, fields: Doc, session: Any) -> None:
        self._set("residents", resident_id, fields)

    async def household_residents(self, household_id: str) -> list[Doc]:
        return self._sorted("residents", lambda d: d["household_id"] == household_id, "_id")
