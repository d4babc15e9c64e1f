"""The figures of an area's summary, folded from the rows the repository recomputes (no I/O).
Figures are kept by source kind and in total: a project funded from several source kinds counts
once under each and once in the total."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from projects_service.money import Money
from relocation_shared.events.projects import PaymentKind, ProjectKind, ProjectStatus, SourceKind
from relocation_shared.mongo import Doc

TOTAL = "total"
SOURCE_KINDS = [k.value for k in SourceKind]
MONEY_FIGURES = (
    "budget",
    "allocated",
    "industry_allocated",
    "disbursed",
    "dividends_paid",
    "collective_income",
    "collective_assets",
)
COUNT_FIGURES = ("projects", "industry_projects", "demonstration_projects", "jobs", "households_benefiting")
LEDGER_FIGURES = {
    PaymentKind.DISBURSEMENT.value: "disbursed",
    PaymentKind.DIVIDEND.value: "dividends_paid",
    PaymentKind.COLLECTIVE_INCOME.value: "collective_income",
    PaymentKind.COLLECTIVE_ASSET.value: "collective_assets",
}


class Tally:
    """Figures by source kind and in total, and projects by status and by chain."""

    def __init__(self) -> None:
        self.figures: dict[str, dict[str, int]] = {k: defaultdict(int) for k in [*SOURCE_KINDS, TOTAL]}
        self.by_status: dict[str, int] = {s.value: 0 for s in ProjectStatus}
        self.by_chain: dict[str, int] = defaultdict(int)

    def add_projects(self, projects: list[Doc]) -> None:
        for p in projects:
            self.by_status[p["status"]] += 1
            for k in [*p["source_kinds"], TOTAL]:  # people hired by a cancelled project still work
                self.figures[k]["jobs"] += p["jobs"]
            if p["status"] == ProjectStatus.CANCELLED.value:
                continue
            self.by_chain[p.get("chain") or "none"] += 1
            for k in [*p["source_kinds"], TOTAL]:
                f = self.figures[k]
                f["projects"] += 1
                f["industry_projects"] += int(p["kind"] == ProjectKind.INDUSTRY.value)
                f["demonstration_projects"] += int(bool(p["provincial_demonstration"]))

    def add_allocations(self, rows: list[Doc]) -> None:
        for r in rows:
            allocated = r["amount"] - r["released"]
            for k in (r["_id"]["source_kind"], TOTAL):
                self.figures[k]["allocated"] += allocated
                if r["_id"].get("industry"):
                    self.figures[k]["industry_allocated"] += allocated

    def add_budgets(self, rows: list[Doc]) -> None:
        for r in rows:
            self.figures[r["_id"]]["budget"] += r["fen"]
            self.figures[TOTAL]["budget"] += r["fen"]

    def add_ledger(self, totals: Doc) -> None:
        for r in totals["total"]:
            self.figures[TOTAL][LEDGER_FIGURES[r["_id"]]] += r["fen"]
        for r in totals["by_source_kind"]:
            self.figures[r["_id"]["source_kind"]][LEDGER_FIGURES[r["_id"]["kind"]]] += r["fen"]

    def add_households(self, total: int, by_kind: dict[str, int]) -> None:
        for k, n in by_kind.items():
            self.figures[k]["households_benefiting"] = n
        self.figures[TOTAL]["households_benefiting"] = total

    def fields(self, key: str) -> dict[str, Any]:
        values = self.figures[key]
        return {
            **{k: Money.of(values.get(k, 0)) for k in MONEY_FIGURES},
            **{k: values.get(k, 0) for k in COUNT_FIGURES},
        }
