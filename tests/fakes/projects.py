"""In-memory fakes for the projects service's unit tests (cosmicpython style): a repository with
the same methods as `ProjectsRepository` over dicts, and a unit of work that commits the
repository's state and the recorded events together, or neither."""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, TypeVar

T = TypeVar("T")
Doc = dict[str, Any]

COLLECTIONS = (
    "sources",
    "budgets",
    "projects",
    "allocations",
    "ledger",
    "spells",
    "households",
)


def apply(doc: Doc, update: Doc, *, inserting: bool = False) -> None:
    for op, fields in update.items():
        for key, value in fields.items():
            if op == "$set":
                doc[key] = copy.deepcopy(value)
            elif op == "$setOnInsert":
                if inserting:
                    doc[key] = copy.deepcopy(value)
            elif op == "$inc":
                doc[key] = doc.get(key, 0) + value
            elif op == "$push":
                doc[key] = [*doc.get(key, []), copy.deepcopy(value)]
            elif op == "$addToSet":
                if value not in doc.get(key, []):
                    doc[key] = [*doc.get(key, []), value]
            else:
                raise NotImplementedError(op)


class FakeProjectsRepository:
    def __init__(self) -> None:
        self.data: dict[str, dict[str, Doc]] = {c: {} for c in COLLECTIONS}

    def snapshot(self) -> Any:
        return copy.deepcopy(self.data)

    def restore(self, state: Any) -> None:
        self.data = state

    def _get(self, collection: str, key: str) -> Doc | None:
        doc = self.data[collection].get(key)
        return copy.deepcopy(doc) if doc is not None else None

    def _by_ids(self, collection: str, ids: Iterable[str]) -> dict[str, Doc]:
        return {i: copy.deepcopy(self.data[collection][i]) for i in set(ids) if i in self.data[collection]}

    def _insert(self, collection: str, docs: list[Doc]) -> None:
        for d in docs:
            if d["_id"] in self.data[collection]:
                raise KeyError(f"duplicate {collection} {d['_id']}")
            self.data[collection][d["_id"]] = copy.deepcopy(d)

    # sources and budgets
    async def insert_source(self, doc: Doc, session: Any) -> None:
        self._insert("sources", [doc])

    async def get_source(self, source_id: str, session: Any = None) -> Doc | None:
        return self._get("sources", source_id)

    async def get_sources(self, ids: Iterable[str], session: Any) -> dict[str, Doc]:
        return self._by_ids("sources", ids)

    async def list_sources(self) -> list[Doc]:
        return [copy.deepcopy(d) for _, d in sorted(self.data["sources"].items())]

    async def source_budgets(self, source_id: str) -> list[Doc]:
        return [copy.deepcopy(b) for b in self.data["budgets"].values() if b["source_id"] == source_id]

    async def get_budgets(self, ids: Iterable[str], session: Any) -> dict[str, Doc]:
        return self._by_ids("budgets", ids)

    async def get_budget(self, budget_id: str, session: Any) -> Doc | None:
        return self._get("budgets", budget_id)

    async def insert_budgets(self, docs: list[Doc], session: Any) -> None:
        self._insert("budgets", docs)

    async def set_budget(self, budget_id: str, *, old_budget: int, new_budget: int, session: Any) -> bool:
        b = self.data["budgets"][budget_id]
        delta = new_budget - old_budget
        if b["budget_fen"] != old_budget or b["remaining_fen"] < -delta:
            return False
        b["budget_fen"] = new_budget
        b["remaining_fen"] += delta
        return True

    # projects and allocations
    async def insert_projects(self, docs: list[Doc], session: Any) -> None:
        self._insert("projects", docs)

    async def get_project(self, project_id: str, session: Any = None) -> Doc | None:
        return self._get("projects", project_id)

    async def get_projects(self, ids: Iterable[str], session: Any) -> dict[str, Doc]:
        return self._by_ids("projects", ids)

    async def list_projects(self, *, area: str, status: Any, chain: Any, after: Any, limit: int) -> list[Doc]:
        out = [
            copy.deepcopy(p)
            for _, p in sorted(self.data["projects"].items())
            if area in p["area_path"]
            and (status is None or p["status"] == status)
            and (chain is None or p["chain"] == chain)
            and (after is None or p["_id"] > after)
        ]
        return out[:limit]

    async def change_status(self, moves: list[tuple[str, str, Doc]], session: Any) -> int:
        matched = 0
        for pid, current, update in moves:
            p = self.data["projects"].get(pid)
            if p is not None and p["status"] == current:
                apply(p, update)
                matched += 1
        return matched

    async def update_project(self, project_id: str, update: Doc, session: Any) -> None:
        apply(self.data["projects"][project_id], update)

    async def guarded_updates(self, updates: dict[str, Doc], *, statuses: list[str] | None, session: Any) -> bool:
        matched = 0
        for pid, update in updates.items():
            p = self.data["projects"].get(pid)
            if p is not None and (statuses is None or p["status"] in statuses):
                apply(p, update)
                matched += 1
        return matched == len(updates)

    async def insert_allocations(self, docs: list[Doc], session: Any) -> None:
        self._insert("allocations", docs)

    async def get_allocations(self, ids: Iterable[str], session: Any) -> dict[str, Doc]:
        return self._by_ids("allocations", ids)

    async def project_allocations(self, project_id: str, session: Any = None) -> list[Doc]:
        return [copy.deepcopy(a) for a in self.data["allocations"].values() if a["project_id"] == project_id]

    async def allocations_of(self, project_ids: list[str], session: Any) -> list[Doc]:
        return [copy.deepcopy(a) for a in self.data["allocations"].values() if a["project_id"] in set(project_ids)]

    async def add_to_allocation(self, allocation_id: str, amount: int, session: Any) -> None:
        apply(self.data["allocations"][allocation_id], {"$inc": {"amount_fen": amount, "remaining_fen": amount}})

    async def release_allocations(self, releases: dict[str, int], session: Any) -> bool:
        ok = 0
        for aid, amount in releases.items():
            a = self.data["allocations"][aid]
            if a["remaining_fen"] == amount:
                a["remaining_fen"] = 0
                a["released_fen"] += amount
                ok += 1
        return ok == len(releases)

    async def draw(self, collection: str, draws: dict[str, int], session: Any) -> bool:
        ok = 0
        for key, amount in draws.items():
            d = self.data[collection].get(key)
            if d is not None and d["remaining_fen"] >= amount:
                d["remaining_fen"] -= amount
                d["disbursed_fen"] += amount
                ok += 1
        return ok == len(draws)

    async def give_back(self, collection: str, key: str, amount: int, *, released: bool, session: Any) -> None:
        d = self.data[collection][key]
        d["disbursed_fen"] -= amount
        d["released_fen" if released else "remaining_fen"] += amount

    # ledger
    async def append(self, entries: list[Doc], session: Any) -> None:
        self._insert("ledger", entries)

    async def get_entry(self, entry_id: str, session: Any = None) -> Doc | None:
        return self._get("ledger", entry_id)

    async def list_entries(self, query: Doc, *, limit: int) -> list[Doc]:
        out = [e for e in self.data["ledger"].values() if all(e.get(k) == v for k, v in query.items())]
        return copy.deepcopy(sorted(out, key=lambda e: e["recorded_at"], reverse=True)[:limit])

    def _area(self, collection: str, area: str) -> list[Doc]:
        return [d for d in self.data[collection].values() if area in d["area_path"]]

    async def ledger_totals(self, area: str) -> list[Doc]:
        total: dict[str, int] = defaultdict(int)
        by_kind: dict[tuple[str, str], int] = defaultdict(int)
        for e in self._area("ledger", area):
            total[e["kind"]] += e["amount_fen"]
            for k in e["source_kinds"]:
                by_kind[(e["kind"], k)] += e["amount_fen"]
        return [
            {
                "total": [{"_id": k, "fen": v} for k, v in total.items()],
                "by_source_kind": [{"_id": {"kind": k, "source_kind": s}, "fen": v} for (k, s), v in by_kind.items()],
            }
        ]

    async def households_benefiting(self, area: str) -> tuple[int, dict[str, int]]:
        sums: dict[tuple[str, str], int] = defaultdict(int)
        for e in self._area("ledger", area):
            if e["kind"] == "dividend" and e["recipient"] == "household":
                for k in e["source_kinds"]:
                    sums[(e["household_id"], k)] += e["amount_fen"]
        by_kind: dict[str, int] = defaultdict(int)
        for (_, k), v in sums.items():
            if v > 0:
                by_kind[k] += 1
        return len({h for (h, _), v in sums.items() if v > 0}), dict(by_kind)

    # communities
    async def community_totals(self, code: str) -> list[Doc]:
        sums: dict[tuple[str, str | None], int] = defaultdict(int)
        for e in self.data["ledger"].values():
            if e["community_code"] == code:
                sums[(e["kind"], e["recipient"])] += e["amount_fen"]
        return [{"_id": {"kind": k, "recipient": r}, "fen": v} for (k, r), v in sums.items()]

    async def community_income_by_year(self, code: str) -> list[Doc]:
        years: dict[int, int] = defaultdict(int)
        for e in self.data["ledger"].values():
            if e["community_code"] == code and e["kind"] == "collective_income":
                years[e["year"]] += e["amount_fen"]
        return [{"_id": y, "fen": v} for y, v in years.items()]

    # spells and households
    async def get_spell(self, spell_id: str, session: Any = None) -> Doc | None:
        return self._get("spells", spell_id)

    async def get_spells(self, ids: Iterable[str], session: Any) -> dict[str, Doc]:
        return self._by_ids("spells", ids)

    async def insert_spells(self, docs: list[Doc], session: Any) -> None:
        self._insert("spells", docs)

    async def close_spell(self, spell_id: str, *, ended_on: str, session: Any) -> None:
        apply(self.data["spells"][spell_id], {"$set": {"open": False, "ended_on": ended_on}})

    async def link_spells(self, links: dict[str, tuple[list[str], Doc]], session: Any) -> int:
        n = 0
        for spell_ids, fields in links.values():
            for sid in spell_ids:
                s = self.data["spells"].get(sid)
                if s is not None and s["open"] and s["project_id"] is None:
                    apply(s, {"$set": fields})
                    n += 1
        return n

    async def unlink_spell(self, spell_id: str, project_id: str, session: Any) -> bool:
        s = self.data["spells"].get(spell_id)
        if s is None or s["project_id"] != project_id or not s["open"]:
            return False
        apply(
            s, {"$set": {"project_id": None, "project_kind": None, "project_chain": None, "project_source_kinds": []}}
        )
        return True

    async def project_spells(self, project_id: str, *, open_only: bool, limit: int) -> list[Doc]:
        out = [
            s for s in self.data["spells"].values() if s["project_id"] == project_id and (s["open"] or not open_only)
        ]
        return copy.deepcopy(out[:limit])

    async def get_household(self, household_id: str, session: Any = None) -> Doc | None:
        return self._get("households", household_id)

    async def get_households(self, ids: Iterable[str], session: Any) -> dict[str, Doc]:
        return self._by_ids("households", ids)

    async def upsert_household(self, doc: Doc, session: Any) -> None:
        inserting = doc["_id"] not in self.data["households"]
        h = self.data["households"].setdefault(doc["_id"], {})
        apply(h, {"$set": doc, "$setOnInsert": {"dividends": 0}}, inserting=inserting)

    async def add_household_dividends(self, changes: dict[str, int], session: Any) -> bool:
        ok = 0
        for hid, n in changes.items():
            if hid in self.data["households"]:
                self.data["households"][hid]["dividends"] += n
                ok += 1
        return ok == len(changes)

    # summary
    async def project_rows(self, area: str) -> list[Doc]:
        return copy.deepcopy(self._area("projects", area))

    async def allocation_totals(self, area: str) -> list[Doc]:
        groups: dict[tuple[str, bool], Doc] = {}
        for a in self._area("allocations", area):
            g = groups.setdefault(
                (a["source_kind"], a["industry"]),
                {"_id": {"source_kind": a["source_kind"], "industry": a["industry"]}, "amount": 0, "released": 0},
            )
            g["amount"] += a["amount_fen"]
            g["released"] += a["released_fen"]
        return list(groups.values())

    async def budget_totals(self, area: str) -> list[Doc]:
        sums: dict[str, int] = defaultdict(int)
        for b in self._area("budgets", area):
            sums[b["source_kind"]] += b["budget_fen"]
        return [{"_id": k, "fen": v} for k, v in sums.items()]
