"""Funding sources (中央财政衔接戴帽资金, 市级专项资金, 其他) and their yearly budgets: who sees a
source, and how far a budget may be changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from projects_service.money import yuan
from relocation_shared.areas import path_of_code
from relocation_shared.auth import Principal
from relocation_shared.errors import Conflict, InvalidInput
from relocation_shared.events.projects import SourceKind
from relocation_shared.mongo import Doc


def budget_id(source_id: str, year: int) -> str:
    return f"{source_id}:{year}"


@dataclass(frozen=True)
class Source:
    id: str
    kind: SourceKind
    name: str
    area_code: str
    area_path: list[str]
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class Budget:
    """A source's budget for a year, as first set: nothing disbursed yet."""

    source_id: str
    source_kind: SourceKind
    year: int
    amount_fen: int
    area_path: list[str]

    @property
    def id(self) -> str:
        return budget_id(self.source_id, self.year)


def source_visible(principal: Principal, doc: Doc) -> bool:
    """A source is visible to users of its area and to users below it (who fund projects from it)."""
    if principal.covers(doc["area_path"]):
        return True
    for code in principal.areas:
        try:
            if doc["area_code"] in path_of_code(code.split("-")[0]):
                return True
        except ValueError:
            continue
    return False


def check_budget_years(years: list[int]) -> None:
    if len(set(years)) != len(years):
        raise InvalidInput("同一年度的预算重复", field="budgets")


def check_budget_year(year: int) -> None:
    if not 2000 <= year <= 2100:
        raise InvalidInput("年度应在 2000 至 2100 之间", field="year")


def check_budget_change(*, new_budget: int, disbursed: int) -> None:
    """A budget cannot go below what was already disbursed from it that year."""
    if new_budget < disbursed:
        raise Conflict(
            f"预算不能低于本年度已拨付的 {yuan(disbursed)} 元",
            field="amount_fen",
            disbursed_fen=disbursed,
        )


def unallocated(budget: Doc) -> int:
    """What a budget still has for allocations (nothing for a budget stored before allocations
    were counted: its `unallocated_fen` is to be set by a migration)."""
    return int(budget.get("unallocated_fen", 0))


def reserve_budgets(left: dict[str, int], wanted: list[tuple[str, int, int, str]]) -> dict[str, int]:
    """Allocations of one project, each (budget id, year, amount, field), checked against what
    each source's budget for that year has not yet allocated (`left`, lowered as earlier rows of
    a batch reserve): all of them or none. Conflict (409) naming the field of the first one too
    big. Returns the amounts by budget id."""
    trial = dict(left)
    for bid, year, amount, field in wanted:
        if bid not in trial:
            raise Conflict(f"该资金来源没有 {year} 年度预算,不能安排资金", field=field, unallocated_fen=0)
        if amount > trial[bid]:
            raise Conflict(
                f"安排金额 {yuan(amount)} 元超过该资金来源 {year} 年度尚未安排的预算 {yuan(max(trial[bid], 0))} 元",
                field=field,
                unallocated_fen=max(trial[bid], 0),
            )
        trial[bid] -= amount
    left.update(trial)
    out: dict[str, int] = {}
    for bid, _, amount, _ in wanted:
        out[bid] = out.get(bid, 0) + amount
    return out


def budget_releases(allocations: dict[str, list[Doc]], releases: dict[str, int]) -> dict[str, int]:
    """What cancelled projects' released allocations (`releases`, by allocation id) give back to
    each budget, by budget id."""
    out: dict[str, int] = {}
    for docs in allocations.values():
        for a in docs:
            if a["_id"] in releases:
                bid = budget_id(a["source_id"], a["year"])
                out[bid] = out.get(bid, 0) + releases[a["_id"]]
    return out
