"""MongoDB access of the projects service. Every write takes the unit of work's session.

Collections:
- `sources`, `budgets` (one per source and year: budget, disbursed, remaining);
- `projects`, `allocations` (one per project, source and year: amount, disbursed, remaining,
  released on cancellation);
- `ledger`: every payment, append-only; a reversal is a new entry with the negated amount
  whose id is the original's id + "-R" (so a payment can be reversed only once);
- `spells`, `households`: this service's copies of the employment spells and the registry's
  households, kept from their events. A project's `jobs` counts its open linked spells; it
  changes in the same transaction as the spell it counts (linked, unlinked, ended).

Bulk reads by id go in chunks: the MongoDB-protocol server answers `$in` queries in time that
grows with the square of the list."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateMany, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

Doc = dict[str, Any]
Session = AsyncClientSession | None

CHUNK = 100
REVERSAL_SUFFIX = "-R"


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.budgets.create_index([("source_id", ASCENDING)], name="source")
    await db.projects.create_index([("area_path", ASCENDING), ("status", ASCENDING)], name="area_status")
    await db.allocations.create_index([("project_id", ASCENDING)], name="project")
    await db.allocations.create_index([("area_path", ASCENDING)], name="area")
    await db.ledger.create_index([("project_id", ASCENDING), ("recorded_at", ASCENDING)], name="project")
    await db.ledger.create_index([("community_code", ASCENDING), ("recorded_at", ASCENDING)], name="community")
    await db.ledger.create_index([("area_path", ASCENDING)], name="area")
    await db.spells.create_index([("project_id", ASCENDING), ("open", ASCENDING)], name="project")


class ProjectsRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def _by_ids(self, collection: str, ids: Iterable[str], session: Session) -> dict[str, Doc]:
        unique = sorted(set(ids))
        out: dict[str, Doc] = {}
        for part in chunks(unique):
            async for d in self.db[collection].find({"_id": {"$in": list(part)}}, session=session):
                out[d["_id"]] = d
        return out

    # funding sources and budgets ------------------------------------------
    async def insert_source(self, doc: Doc, session: Session) -> None:
        await self.db.sources.insert_one(doc, session=session)

    async def get_source(self, source_id: str, session: Session = None) -> Doc | None:
        return await self.db.sources.find_one({"_id": source_id}, session=session)

    async def get_sources(self, ids: Iterable[str], session: Session) -> dict[str, Doc]:
        return await self._by_ids("sources", ids, session)

    async def list_sources(self) -> list[Doc]:
        return await self.db.sources.find().sort("_id", ASCENDING).to_list(None)

    async def source_budgets(self, source_id: str) -> list[Doc]:
        return await self.db.budgets.find({"source_id": source_id}).to_list(None)

    async def get_budgets(self, ids: Iterable[str], session: Session) -> dict[str, Doc]:
        return await self._by_ids("budgets", ids, session)

    async def get_budget(self, budget_id: str, session: Session) -> Doc | None:
        return await self.db.budgets.find_one({"_id": budget_id}, session=session)

    async def insert_budgets(self, docs: list[Doc], session: Session) -> None:
        if docs:
            await self.db.budgets.insert_many(docs, session=session)

    async def set_budget(self, budget_id: str, *, old_budget: int, new_budget: int, session: Session) -> bool:
        """Change a budget unless it moved under us; the remaining amount moves by the same delta."""
        delta = new_budget - old_budget
        result = await self.db.budgets.update_one(
            {"_id": budget_id, "budget_fen": old_budget, "remaining_fen": {"$gte": -delta}},
            {"$set": {"budget_fen": new_budget}, "$inc": {"remaining_fen": delta}},
            session=session,
        )
        return result.modified_count == 1

    # projects and allocations ----------------------------------------------
    async def insert_projects(self, docs: list[Doc], session: Session) -> None:
        if docs:
            await self.db.projects.insert_many(docs, session=session)

    async def get_project(self, project_id: str, session: Session = None) -> Doc | None:
        return await self.db.projects.find_one({"_id": project_id}, session=session)

    async def get_projects(self, ids: Iterable[str], session: Session) -> dict[str, Doc]:
        return await self._by_ids("projects", ids, session)

    async def list_projects(
        self, *, area: str, status: str | None, chain: str | None, after: str | None, limit: int
    ) -> list[Doc]:
        query: Doc = {"area_path": area}
        if status:
            query["status"] = status
        if chain:
            query["chain"] = chain
        if after:
            query["_id"] = {"$gt": after}
        return await self.db.projects.find(query).sort("_id", ASCENDING).limit(limit).to_list(limit)

    async def change_status(self, moves: list[tuple[str, str, Doc]], session: Session) -> int:
        """Apply (project id, expected current status, update) in order; returns how many matched."""
        if not moves:
            return 0
        ops = [UpdateOne({"_id": pid, "status": current}, update) for pid, current, update in moves]
        result = await self.db.projects.bulk_write(ops, ordered=True, session=session)
        return result.matched_count

    async def update_project(self, project_id: str, update: Doc, session: Session) -> None:
        await self.db.projects.update_one({"_id": project_id}, update, session=session)

    async def guarded_updates(self, updates: dict[str, Doc], *, statuses: list[str] | None, session: Session) -> bool:
        """Update projects, each only while it is in one of `statuses`: the write that makes a
        concurrent status change and this use case conflict. True when every project matched."""
        if not updates:
            return True
        cond: Doc = {"status": {"$in": statuses}} if statuses is not None else {}
        ops = [UpdateOne({"_id": pid, **cond}, update) for pid, update in updates.items()]
        result = await self.db.projects.bulk_write(ops, ordered=False, session=session)
        return result.matched_count == len(ops)

    async def insert_allocations(self, docs: list[Doc], session: Session) -> None:
        if docs:
            await self.db.allocations.insert_many(docs, session=session)

    async def get_allocations(self, ids: Iterable[str], session: Session) -> dict[str, Doc]:
        return await self._by_ids("allocations", ids, session)

    async def project_allocations(self, project_id: str, session: Session = None) -> list[Doc]:
        return await self.db.allocations.find({"project_id": project_id}, session=session).to_list(None)

    async def allocations_of(self, project_ids: list[str], session: Session) -> list[Doc]:
        out: list[Doc] = []
        for part in chunks(sorted(set(project_ids))):
            out += await self.db.allocations.find({"project_id": {"$in": list(part)}}, session=session).to_list(None)
        return out

    async def add_to_allocation(self, allocation_id: str, amount: int, session: Session) -> None:
        await self.db.allocations.update_one(
            {"_id": allocation_id}, {"$inc": {"amount_fen": amount, "remaining_fen": amount}}, session=session
        )

    async def release_allocations(self, releases: dict[str, int], session: Session) -> bool:
        """On cancellation: what was not disbursed is given back (remaining → released)."""
        if not releases:
            return True
        ops = [
            UpdateOne(
                {"_id": aid, "remaining_fen": amount}, {"$set": {"remaining_fen": 0}, "$inc": {"released_fen": amount}}
            )
            for aid, amount in releases.items()
        ]
        result = await self.db.allocations.bulk_write(ops, ordered=False, session=session)
        return result.matched_count == len(ops)

    async def draw(self, collection: str, draws: dict[str, int], session: Session) -> bool:
        """Draw from allocations or budgets: each only if enough remains (the conditional update
        that makes overspending impossible even if a check were skipped). True when all drew."""
        if not draws:
            return True
        ops = [
            UpdateOne(
                {"_id": key, "remaining_fen": {"$gte": amount}},
                {"$inc": {"remaining_fen": -amount, "disbursed_fen": amount}},
            )
            for key, amount in draws.items()
        ]
        result = await self.db[collection].bulk_write(ops, ordered=False, session=session)
        return result.matched_count == len(ops)

    async def give_back(self, collection: str, key: str, amount: int, *, released: bool, session: Session) -> None:
        """A reversed disbursement: the amount is undisbursed again (released if the project was cancelled)."""
        inc = {"disbursed_fen": -amount, ("released_fen" if released else "remaining_fen"): amount}
        await self.db[collection].update_one({"_id": key}, {"$inc": inc}, session=session)

    # the ledger ----------------------------------------------------------------
    async def append(self, entries: list[Doc], session: Session) -> None:
        if entries:
            await self.db.ledger.insert_many(entries, session=session)

    async def get_entry(self, entry_id: str, session: Session = None) -> Doc | None:
        return await self.db.ledger.find_one({"_id": entry_id}, session=session)

    async def list_entries(self, query: Doc, *, limit: int) -> list[Doc]:
        return await self.db.ledger.find(query).sort("recorded_at", DESCENDING).limit(limit).to_list(limit)

    async def ledger_totals(self, area: str) -> list[Doc]:
        """Net amounts by payment kind and by (payment kind, source kind), recomputed from every
        entry of the area: reversals carry negative amounts, so the sums are net."""
        pipeline: list[Doc] = [
            {"$match": {"area_path": area}},
            {
                "$facet": {
                    "total": [{"$group": {"_id": "$kind", "fen": {"$sum": "$amount_fen"}}}],
                    "by_source_kind": [
                        {"$unwind": "$source_kinds"},
                        {
                            "$group": {
                                "_id": {"kind": "$kind", "source_kind": "$source_kinds"},
                                "fen": {"$sum": "$amount_fen"},
                            }
                        },
                    ],
                }
            },
        ]
        return await (await self.db.ledger.aggregate(pipeline)).to_list(None)

    async def households_benefiting(self, area: str) -> tuple[int, dict[str, int]]:
        """Households whose unreversed dividends are positive: in all, and by source kind."""
        rows = await (
            await self.db.ledger.aggregate(
                [
                    {"$match": {"area_path": area, "kind": "dividend", "recipient": "household"}},
                    {"$unwind": "$source_kinds"},
                    {
                        "$group": {
                            "_id": {"h": "$household_id", "s": "$source_kinds"},
                            "fen": {"$sum": "$amount_fen"},
                        }
                    },
                ]
            )
        ).to_list(None)
        households: set[str] = set()
        by_kind: dict[str, int] = {}
        for r in rows:
            if r["fen"] > 0:
                households.add(r["_id"]["h"])
                by_kind[r["_id"]["s"]] = by_kind.get(r["_id"]["s"], 0) + 1
        return len(households), by_kind

    # communities ----------------------------------------------------------------
    async def community_totals(self, code: str) -> list[Doc]:
        """Net amounts of a community's entries by payment kind and recipient."""
        return await (
            await self.db.ledger.aggregate(
                [
                    {"$match": {"community_code": code}},
                    {"$group": {"_id": {"kind": "$kind", "recipient": "$recipient"}, "fen": {"$sum": "$amount_fen"}}},
                ]
            )
        ).to_list(None)

    async def community_income_by_year(self, code: str) -> list[Doc]:
        return await (
            await self.db.ledger.aggregate(
                [
                    {"$match": {"community_code": code, "kind": "collective_income"}},
                    {"$group": {"_id": "$year", "fen": {"$sum": "$amount_fen"}}},
                ]
            )
        ).to_list(None)

    # spells and households (copies from events) --------------------------------
    async def get_spell(self, spell_id: str, session: Session = None) -> Doc | None:
        return await self.db.spells.find_one({"_id": spell_id}, session=session)

    async def get_spells(self, ids: Iterable[str], session: Session) -> dict[str, Doc]:
        return await self._by_ids("spells", ids, session)

    async def insert_spells(self, docs: list[Doc], session: Session) -> None:
        if docs:
            await self.db.spells.insert_many(docs, session=session)

    async def close_spell(self, spell_id: str, *, ended_on: str, session: Session) -> None:
        await self.db.spells.update_one(
            {"_id": spell_id}, {"$set": {"open": False, "ended_on": ended_on}}, session=session
        )

    async def link_spells(self, links: dict[str, tuple[list[str], Doc]], session: Session) -> int:
        """Link open, unlinked spells to projects (project id → (spell ids, fields to set)), in
        one round trip; returns how many spells were linked."""
        ops = [
            UpdateMany({"_id": {"$in": list(part)}, "open": True, "project_id": None}, {"$set": fields})
            for spell_ids, fields in links.values()
            for part in chunks(spell_ids)
        ]
        if not ops:
            return 0
        result = await self.db.spells.bulk_write(ops, ordered=False, session=session)
        return result.modified_count

    async def unlink_spell(self, spell_id: str, project_id: str, session: Session) -> bool:
        result = await self.db.spells.update_one(
            {"_id": spell_id, "project_id": project_id, "open": True},
            {
                "$set": {
                    "project_id": None,
                    "project_kind": None,
                    "project_chain": None,
                    "project_source_kinds": [],
                    "linked_at": None,
                }
            },
            session=session,
        )
        return result.modified_count == 1

    async def project_spells(self, project_id: str, *, open_only: bool, limit: int) -> list[Doc]:
        query: Doc = {"project_id": project_id}
        if open_only:
            query["open"] = True
        return await self.db.spells.find(query).sort("_id", ASCENDING).limit(limit).to_list(limit)

    async def get_household(self, household_id: str, session: Session = None) -> Doc | None:
        return await self.db.households.find_one({"_id": household_id}, session=session)

    async def get_households(self, ids: Iterable[str], session: Session) -> dict[str, Doc]:
        return await self._by_ids("households", ids, session)

    async def upsert_household(self, doc: Doc, session: Session) -> None:
        await self.db.households.update_one(
            {"_id": doc["_id"]}, {"$set": doc, "$setOnInsert": {"dividends": 0}}, upsert=True, session=session
        )

    async def add_household_dividends(self, changes: dict[str, int], session: Session) -> bool:
        if not changes:
            return True
        ops = [UpdateOne({"_id": hid}, {"$inc": {"dividends": n}}) for hid, n in changes.items()]
        result = await self.db.households.bulk_write(ops, ordered=False, session=session)
        return result.matched_count == len(ops)

    # summary --------------------------------------------------------------------
    async def project_rows(self, area: str) -> list[Doc]:
        projection = {"kind": 1, "chain": 1, "status": 1, "provincial_demonstration": 1, "source_kinds": 1, "jobs": 1}
        return await self.db.projects.find({"area_path": area}, projection).to_list(None)

    async def allocation_totals(self, area: str) -> list[Doc]:
        return await (
            await self.db.allocations.aggregate(
                [
                    {"$match": {"area_path": area}},
                    {
                        "$group": {
                            "_id": {"source_kind": "$source_kind", "industry": "$industry"},
                            "amount": {"$sum": "$amount_fen"},
                            "released": {"$sum": "$released_fen"},
                            "disbursed": {"$sum": "$disbursed_fen"},
                        }
                    },
                ]
            )
        ).to_list(None)

    async def budget_totals(self, area: str) -> list[Doc]:
        return await (
            await self.db.budgets.aggregate(
                [
                    {"$match": {"area_path": area}},
                    {"$group": {"_id": "$source_kind", "fen": {"$sum": "$budget_fen"}}},
                ]
            )
        ).to_list(None)
