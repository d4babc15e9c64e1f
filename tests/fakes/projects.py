"""In-memory fakes of the projects service's repositories (cosmicpython style): one fake per
Protocol, all over one `FakeProjectsDb` (the collections as dicts), which the fake unit of work
snapshots and restores. `fake_services()` wires the service's use cases over them."""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from projects_service.jobs.domain import Household, Link, Spell
from projects_service.jobs.repository import (
    UNLINKED,
    JobsStore,
    MongoJobsStore,
    household_to_doc,
    link_to_fields,
    spell_to_doc,
)
from projects_service.jobs.service import JobsService
from projects_service.ledger.domain import Entry
from projects_service.ledger.repository import LedgerStore, MongoLedgerStore, entry_to_doc
from projects_service.projects.domain import NewAllocation, NewProject
from projects_service.projects.repository import (
    MongoProjectsStore,
    ProjectsStore,
    StatusMove,
    allocation_to_doc,
    project_to_doc,
    step_to_doc,
)
from projects_service.reports.repository import MongoReportsStore, ReportsStore
from projects_service.sources.domain import Budget, Source
from projects_service.sources.repository import MongoSourcesStore, SourcesStore, budget_to_doc, source_to_doc
from projects_service.wiring import Services, Stores, build_services
from relocation_shared.events import CATALOG
from relocation_shared.events.governance import HouseholdRegistered
from relocation_shared.mongo import Doc
from relocation_shared.outbox import Tx
from tests.fakes.collections import FakeCollections
from tests.fakes.registry import Pair
from tests.fakes.uow import FakeUnitOfWork


class FakeProjectsDb(FakeCollections):
    COLLECTIONS = ("sources", "budgets", "projects", "allocations", "ledger", "spells", "households")

    def insert(self, collection: str, docs: list[Doc]) -> None:
        for d in docs:
            self._insert(collection, d)

    def area(self, collection: str, area: str) -> list[Doc]:
        return [d for d in self.data[collection].values() if area in d["area_path"]]

    def draw(self, collection: str, draws: dict[str, int]) -> bool:
        ok = 0
        for key, amount in draws.items():
            d = self.data[collection].get(key)
            if d is not None and d["remaining_fen"] >= amount:
                d["remaining_fen"] -= amount
                d["disbursed_fen"] += amount
                ok += 1
        return ok == len(draws)

    def give_back(self, collection: str, key: str, amount: int, *, released: bool) -> None:
        d = self.data[collection][key]
        d["disbursed_fen"] -= amount
        d["released_fen" if released else "remaining_fen"] += amount


class FakeStore:
    def __init__(self, db: FakeProjectsDb) -> None:
        self.db = db


class FakeSourcesStore(FakeStore):
    async def insert_source(self, source: Source, session: Any) -> None:
        self.db.insert("sources", [source_to_doc(source)])

    async def get_source(self, source_id: str, session: Any = None) -> Doc | None:
        return self.db._get("sources", source_id)

    async def get_sources(self, ids: Iterable[str], session: Any) -> dict[str, Doc]:
        return self.db._by_ids("sources", ids)

    async def list_sources(self) -> list[Doc]:
        return self.db._sorted("sources", lambda d: True, "_id")

    async def source_budgets(self, source_id: str) -> list[Doc]:
        return [copy.deepcopy(b) for b in self.db.data["budgets"].values() if b["source_id"] == source_id]

    async def get_budget(self, budget_id: str, session: Any) -> Doc | None:
        return self.db._get("budgets", budget_id)

    async def get_budgets(self, ids: Iterable[str], session: Any) -> dict[str, Doc]:
        return self.db._by_ids("budgets", ids)

    async def insert_budgets(self, budgets: list[Budget], session: Any) -> None:
        self.db.insert("budgets", [budget_to_doc(b) for b in budgets])

    async def set_budget(self, budget_id: str, *, old_budget: int, new_budget: int, session: Any) -> bool:
        b = self.db.data["budgets"][budget_id]
        delta = new_budget - old_budget
        if b["budget_fen"] != old_budget or b["remaining_fen"] < -delta:
            return False
        b["budget_fen"] = new_budget
        b["remaining_fen"] += delta
        b["unallocated_fen"] += delta
        return True

    async def draw_budgets(self, draws: dict[str, int], session: Any) -> bool:
        return self.db.draw("budgets", draws)

    async def give_back_budget(self, budget_id: str, amount: int, session: Any) -> None:
        self.db.give_back("budgets", budget_id, amount, released=False)

    async def reserve_budgets(self, reserves: dict[str, int], session: Any) -> bool:
        ok = 0
        for key, amount in reserves.items():
            b = self.db.data["budgets"].get(key)
            if b is not None and b["unallocated_fen"] >= amount:
                b["unallocated_fen"] -= amount
                b["allocated_fen"] += amount
                ok += 1
        return ok == len(reserves)

    async def release_budgets(self, releases: dict[str, int], session: Any) -> None:
        for key, amount in releases.items():
            b = self.db.data["budgets"][key]
            b["unallocated_fen"] += amount
            b["allocated_fen"] -= amount


class FakeProjectsStore(FakeStore):
    async def insert_projects(self, projects: list[NewProject], session: Any) -> None:
        self.db.insert("projects", [project_to_doc(p) for p in projects])

    async def get_project(self, project_id: str, session: Any = None) -> Doc | None:
        return self.db._get("projects", project_id)

    async def get_projects(self, ids: Iterable[str], session: Any) -> dict[str, Doc]:
        return self.db._by_ids("projects", ids)

    async def list_projects(
        self, *, area: str, status: str | None, chain: str | None, after: str | None, limit: int
    ) -> list[Doc]:
        out = self.db._sorted(
            "projects",
            lambda p: (
                area in p["area_path"]
                and (status is None or p["status"] == status)
                and (chain is None or p["chain"] == chain)
                and (after is None or p["_id"] > after)
            ),
            "_id",
        )
        return out[:limit]

    async def move_statuses(self, moves: list[StatusMove], session: Any) -> int:
        matched = 0
        for m in moves:
            p = self.db.data["projects"].get(m.project_id)
            if p is not None and p["status"] == m.current.value:
                p["status"] = m.step.status.value
                p["status_history"] = [*p["status_history"], step_to_doc(m.step)]
                matched += 1
        return matched

    async def set_demonstration(self, project_id: str, value: bool, session: Any) -> None:
        self.db.data["projects"][project_id]["provincial_demonstration"] = value

    def _guarded(self, project_ids: Iterable[str], statuses: list[str] | None) -> list[Doc] | None:
        docs = [self.db.data["projects"].get(pid) for pid in project_ids]
        ok = [d for d in docs if d is not None and (statuses is None or d["status"] in statuses)]
        return ok if len(ok) == len(docs) else None

    async def add_source_kind(
        self, project_id: str, source_kind: str, *, funded_at: datetime, statuses: list[str], session: Any
    ) -> bool:
        docs = self._guarded([project_id], statuses)
        if docs is None:
            return False
        if source_kind not in docs[0]["source_kinds"]:
            docs[0]["source_kinds"] = [*docs[0]["source_kinds"], source_kind]
        docs[0]["funded_at"] = funded_at
        return True

    def _add(self, field: str, amounts: dict[str, int], statuses: list[str] | None) -> bool:
        matched = 0
        for pid, n in amounts.items():
            docs = self._guarded([pid], statuses)
            if docs is not None:
                docs[0][field] += n
                matched += 1
        return matched == len(amounts)

    async def add_dividends(self, amounts: dict[str, int], *, statuses: list[str] | None, session: Any) -> bool:
        return self._add("dividends_fen", amounts, statuses)

    async def add_jobs(self, counts: dict[str, int], *, statuses: list[str] | None, session: Any) -> bool:
        return self._add("jobs", counts, statuses)

    async def insert_allocations(self, allocations: list[NewAllocation], session: Any) -> None:
        self.db.insert("allocations", [allocation_to_doc(a) for a in allocations])

    async def get_allocations(self, ids: Iterable[str], session: Any) -> dict[str, Doc]:
        return self.db._by_ids("allocations", ids)

    async def project_allocations(self, project_id: str, session: Any = None) -> list[Doc]:
        return [copy.deepcopy(a) for a in self.db.data["allocations"].values() if a["project_id"] == project_id]

    async def allocations_of(self, project_ids: list[str], session: Any) -> list[Doc]:
        wanted = set(project_ids)
        return [copy.deepcopy(a) for a in self.db.data["allocations"].values() if a["project_id"] in wanted]

    async def add_to_allocation(self, allocation_id: str, amount: int, session: Any) -> None:
        a = self.db.data["allocations"][allocation_id]
        a["amount_fen"] += amount
        a["remaining_fen"] += amount

    async def release_allocations(self, releases: dict[str, int], session: Any) -> bool:
        ok = 0
        for aid, amount in releases.items():
            a = self.db.data["allocations"][aid]
            if a["remaining_fen"] == amount:
                a["remaining_fen"] = 0
                a["released_fen"] += amount
                ok += 1
        return ok == len(releases)

    async def draw_allocations(self, draws: dict[str, int], session: Any) -> bool:
        return self.db.draw("allocations", draws)

    async def give_back_allocation(self, allocation_id: str, amount: int, *, released: bool, session: Any) -> None:
        self.db.give_back("allocations", allocation_id, amount, released=released)


class FakeLedgerStore(FakeStore):
    async def append(self, entries: list[Entry], session: Any) -> None:
        self.db.insert("ledger", [entry_to_doc(e) for e in entries])

    async def get_entry(self, entry_id: str, session: Any = None) -> Doc | None:
        return self.db._get("ledger", entry_id)

    async def list_entries(self, *, project_id: str | None, community_code: str | None, limit: int) -> list[Doc]:
        query = {k: v for k, v in (("project_id", project_id), ("community_code", community_code)) if v}
        out = [e for e in self.db.data["ledger"].values() if all(e.get(k) == v for k, v in query.items())]
        return copy.deepcopy(sorted(out, key=lambda e: e["recorded_at"], reverse=True)[:limit])


class FakeJobsStore(FakeStore):
    async def get_spell(self, spell_id: str, session: Any = None) -> Doc | None:
        return self.db._get("spells", spell_id)

    async def get_spells(self, ids: Iterable[str], session: Any) -> dict[str, Doc]:
        return self.db._by_ids("spells", ids)

    async def insert_spells(self, spells: list[Spell], session: Any) -> None:
        self.db.insert("spells", [spell_to_doc(s) for s in spells])

    async def close_spell(self, spell_id: str, *, ended_on: str, session: Any) -> None:
        self.db._set("spells", spell_id, {"open": False, "ended_on": ended_on})

    async def link_spells(self, links: list[tuple[Link, list[str]]], *, at: datetime, session: Any) -> int:
        n = 0
        for link, spell_ids in links:
            for sid in spell_ids:
                s = self.db.data["spells"].get(sid)
                if s is not None and s["open"] and s["project_id"] is None:
                    self.db._set("spells", sid, link_to_fields(link, at))
                    n += 1
        return n

    async def unlink_spell(self, spell_id: str, project_id: str, session: Any) -> bool:
        s = self.db.data["spells"].get(spell_id)
        if s is None or s["project_id"] != project_id or not s["open"]:
            return False
        return self.db._set("spells", spell_id, UNLINKED)

    async def project_spells(self, project_id: str, *, open_only: bool, limit: int) -> list[Doc]:
        out = self.db._sorted("spells", lambda s: s["project_id"] == project_id and (s["open"] or not open_only), "_id")
        return out[:limit]

    async def get_household(self, household_id: str, session: Any = None) -> Doc | None:
        return self.db._get("households", household_id)

    async def get_households(self, ids: Iterable[str], session: Any) -> dict[str, Doc]:
        return self.db._by_ids("households", ids)

    async def upsert_household(self, household: Household, session: Any) -> None:
        h = self.db.data["households"].setdefault(household.id, {"dividends": 0})
        h.update(household_to_doc(household))

    async def add_household_dividends(self, changes: dict[str, int], session: Any) -> bool:
        ok = 0
        for hid, n in changes.items():
            if hid in self.db.data["households"]:
                self.db.data["households"][hid]["dividends"] += n
                ok += 1
        return ok == len(changes)


class FakeReportsStore(FakeStore):
    async def ledger_totals(self, area: str) -> list[Doc]:
        total: dict[str, int] = defaultdict(int)
        by_kind: dict[tuple[str, str], int] = defaultdict(int)
        for e in self.db.area("ledger", area):
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
        for e in self.db.area("ledger", area):
            if e["kind"] == "dividend" and e["recipient"] == "household":
                for k in e["source_kinds"]:
                    sums[(e["household_id"], k)] += e["amount_fen"]
        by_kind: dict[str, int] = defaultdict(int)
        for (_, k), v in sums.items():
            if v > 0:
                by_kind[k] += 1
        return len({h for (h, _), v in sums.items() if v > 0}), dict(by_kind)

    async def community_totals(self, code: str) -> list[Doc]:
        sums: dict[tuple[str, str | None], int] = defaultdict(int)
        for e in self.db.data["ledger"].values():
            if e["community_code"] == code:
                sums[(e["kind"], e["recipient"])] += e["amount_fen"]
        return [{"_id": {"kind": k, "recipient": r}, "fen": v} for (k, r), v in sums.items()]

    async def community_income_by_year(self, code: str) -> list[Doc]:
        years: dict[int, int] = defaultdict(int)
        for e in self.db.data["ledger"].values():
            if e["community_code"] == code and e["kind"] == "collective_income":
                years[e["year"]] += e["amount_fen"]
        return [{"_id": y, "fen": v} for y, v in years.items()]

    async def project_rows(self, area: str) -> list[Doc]:
        return copy.deepcopy(self.db.area("projects", area))

    async def allocation_totals(self, area: str) -> list[Doc]:
        groups: dict[tuple[str, bool], Doc] = {}
        for a in self.db.area("allocations", area):
            g = groups.setdefault(
                (a["source_kind"], a["industry"]),
                {"_id": {"source_kind": a["source_kind"], "industry": a["industry"]}, "amount": 0, "released": 0},
            )
            g["amount"] += a["amount_fen"]
            g["released"] += a["released_fen"]
        return list(groups.values())

    async def budget_totals(self, area: str) -> list[Doc]:
        sums: dict[str, int] = defaultdict(int)
        for b in self.db.area("budgets", area):
            sums[b["source_kind"]] += b["budget_fen"]
        return [{"_id": k, "fen": v} for k, v in sums.items()]


async def register_household(
    jobs: JobsService,
    community_code: str,
    *,
    household_id: str,
    kind: str,
    registered_on: date,
    area_path: list[str],
    at: datetime,
) -> None:
    """The registry's HouseholdRegistered of a household in the community's first grid and
    building, folded into the projects' copy of the households as the consumer does."""
    p = HouseholdRegistered(
        household_id=household_id,
        kind=kind,
        community_code=community_code,
        grid_code=f"{community_code}-G01",
        building_code=f"{community_code}-G01-B01",
        registered_on=registered_on,
    )
    env = CATALOG.envelope(p, producer="governance", area_path=area_path, aggregate_id=household_id, occurred_at=at)

    async def fold(tx: Tx) -> None:
        await jobs.on_household_registered(tx, env, p)

    await jobs.uow.run(fold)


def fake_stores(db: FakeProjectsDb) -> Stores:
    return Stores(
        sources=FakeSourcesStore(db),
        projects=FakeProjectsStore(db),
        ledger=FakeLedgerStore(db),
        jobs=FakeJobsStore(db),
        reports=FakeReportsStore(db),
    )


def fake_services(batch_max: int = 500) -> tuple[Services, FakeUnitOfWork, FakeProjectsDb]:
    """The projects service's use cases over fresh fakes, with the fake unit of work and the data."""
    db = FakeProjectsDb()
    uow = FakeUnitOfWork([db])
    services = build_services(uow=uow, stores=fake_stores(db), clock=uow.clock, batch_max=batch_max)
    return services, uow, db


PAIRS = [
    Pair(protocol=SourcesStore, real=MongoSourcesStore, fake=FakeSourcesStore),
    Pair(protocol=ProjectsStore, real=MongoProjectsStore, fake=FakeProjectsStore),
    Pair(protocol=LedgerStore, real=MongoLedgerStore, fake=FakeLedgerStore),
    Pair(protocol=JobsStore, real=MongoJobsStore, fake=FakeJobsStore),
    Pair(protocol=ReportsStore, real=MongoReportsStore, fake=FakeReportsStore),
]
