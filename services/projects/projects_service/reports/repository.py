"""The reports' reads: every figure recomputed from the records (projects, allocations,
budgets, the ledger net of reversals), by area or by community. Read-only."""

from __future__ import annotations

from typing import Protocol

from pymongo.asynchronous.database import AsyncDatabase

from relocation_shared.mongo import Doc


class ReportsStore(Protocol):
    async def ledger_totals(self, area: str) -> list[Doc]: ...
    async def households_benefiting(self, area: str) -> tuple[int, dict[str, int]]: ...
    async def community_totals(self, code: str) -> list[Doc]: ...
    async def community_income_by_year(self, code: str) -> list[Doc]: ...
    async def project_rows(self, area: str) -> list[Doc]: ...
    async def allocation_totals(self, area: str) -> list[Doc]: ...
    async def budget_totals(self, area: str) -> list[Doc]: ...


class MongoReportsStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def _aggregate(self, collection: str, pipeline: list[Doc]) -> list[Doc]:
        return await (await self.db[collection].aggregate(pipeline)).to_list(None)

    async def ledger_totals(self, area: str) -> list[Doc]:
        """Net amounts by payment kind and by (payment kind, source kind), recomputed from every
        entry of the area: reversals carry negative amounts, so the sums are net."""
        by_source_kind: list[Doc] = [
            {"$unwind": "$source_kinds"},
            {"$group": {"_id": {"kind": "$kind", "source_kind": "$source_kinds"}, "fen": {"$sum": "$amount_fen"}}},
        ]
        return await self._aggregate(
            "ledger",
            [
                {"$match": {"area_path": area}},
                {
                    "$facet": {
                        "total": [{"$group": {"_id": "$kind", "fen": {"$sum": "$amount_fen"}}}],
                        "by_source_kind": by_source_kind,
                    }
                },
            ],
        )

    async def households_benefiting(self, area: str) -> tuple[int, dict[str, int]]:
        """Households whose unreversed dividends are positive: in all, and by source kind."""
        rows = await self._aggregate(
            "ledger",
            [
                {"$match": {"area_path": area, "kind": "dividend", "recipient": "household"}},
                {"$unwind": "$source_kinds"},
                {"$group": {"_id": {"h": "$household_id", "s": "$source_kinds"}, "fen": {"$sum": "$amount_fen"}}},
            ],
        )
        households: set[str] = set()
        by_kind: dict[str, int] = {}
        for r in rows:
            if r["fen"] > 0:
                households.add(r["_id"]["h"])
                by_kind[r["_id"]["s"]] = by_kind.get(r["_id"]["s"], 0) + 1
        return len(households), by_kind

    async def community_totals(self, code: str) -> list[Doc]:
        """Net amounts of a community's entries by payment kind and recipient."""
        return await self._aggregate(
            "ledger",
            [
                {"$match": {"community_code": code}},
                {"$group": {"_id": {"kind": "$kind", "recipient": "$recipient"}, "fen": {"$sum": "$amount_fen"}}},
            ],
        )

    async def community_income_by_year(self, code: str) -> list[Doc]:
        return await self._aggregate(
            "ledger",
            [
                {"$match": {"community_code": code, "kind": "collective_income"}},
                {"$group": {"_id": "$year", "fen": {"$sum": "$amount_fen"}}},
            ],
        )

    async def project_rows(self, area: str) -> list[Doc]:
        projection = {"kind": 1, "chain": 1, "status": 1, "provincial_demonstration": 1, "source_kinds": 1, "jobs": 1}
        return await self.db.projects.find({"area_path": area}, projection).to_list(None)

    async def allocation_totals(self, area: str) -> list[Doc]:
        group = {
            "_id": {"source_kind": "$source_kind", "industry": "$industry"},
            "amount": {"$sum": "$amount_fen"},
            "released": {"$sum": "$released_fen"},
            "disbursed": {"$sum": "$disbursed_fen"},
        }
        return await self._aggregate("allocations", [{"$match": {"area_path": area}}, {"$group": group}])

    async def budget_totals(self, area: str) -> list[Doc]:
        return await self._aggregate(
            "budgets",
            [{"$match": {"area_path": area}}, {"$group": {"_id": "$source_kind", "fen": {"$sum": "$budget_fen"}}}],
        )
