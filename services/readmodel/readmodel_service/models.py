"""The indicators, declared: which event types move which counters, and how each figure that
officials read is computed from the counters. A service that adds events adds its group here.

Counters are integers kept per area at every level (building → province): a change in a
community moves its town, county, city and province at once. Derived figures are computed when
read, with the rounding officials use (half up: 97.37 %, 2.24)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from pydantic import BaseModel

from relocation_shared.events import Envelope, EventPayload
from relocation_shared.events.employment import (
    EmploymentEnded,
    HouseholdLabourChanged,
    HouseholdZeroEmploymentCleared,
    HouseholdZeroEmploymentRaised,
    TrainingCompleted,
    WorkerEmployed,
)
from relocation_shared.events.governance import HouseholdRegistered, ResidentMovedOut, ResidentRegistered
from relocation_shared.events.vocab import AWAY_TYPES, EMPLOYMENT_TYPE_LABELS, HOUSEHOLD_KIND_LABELS, EmploymentType

Counters = dict[str, int]
Deltas = dict[str, int]
Compute = Callable[[Counters], Decimal | None]


@dataclass(frozen=True)
class Fold:
    """How one event type moves counters, and on which day it takes effect (for trends and
    as-of queries: a job started on 2025-03-01 counts from that day, whenever it was recorded)."""

    event_type: str
    deltas: Callable[[Any], Deltas]
    effective: Callable[[Envelope, Any], date]


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    unit: str
    compute: Compute
    group: str
    decimals: int = 0
    better: Literal["higher", "lower"] = "higher"
    headline: bool = False


@dataclass
class IndicatorGroup:
    key: str
    label: str
    folds: list[Fold] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)

    def fold(
        self, model: type[EventPayload], *, effective: Callable[[Envelope, Any], date] | None = None
    ) -> Callable[[Callable[[Any], Deltas]], Callable[[Any], Deltas]]:
        def register(fn: Callable[[Any], Deltas]) -> Callable[[Any], Deltas]:
            self.folds.append(Fold(model.event_type, fn, effective or _occurred))
            return fn

        return register

    def indicator(
        self,
        key: str,
        label: str,
        unit: str,
        compute: Compute | str,
        *,
        decimals: int = 0,
        better: Literal["higher", "lower"] = "higher",
        headline: bool = False,
    ) -> None:
        fn = count(compute) if isinstance(compute, str) else compute
        self.indicators.append(Indicator(key, label, unit, fn, self.key, decimals, better, headline))


def _occurred(env: Envelope, _p: Any) -> date:
    return env.occurred_at.date()


def count(*keys: str) -> Compute:
    return lambda c: Decimal(sum(c.get(k, 0) for k in keys))


def ratio(num: str | tuple[str, ...], den: str, *, percent: bool = False) -> Compute:
    nums = (num,) if isinstance(num, str) else num

    def compute(c: Counters) -> Decimal | None:
        d = c.get(den, 0)
        if d <= 0:
            return None
        value = Decimal(sum(c.get(k, 0) for k in nums)) / Decimal(d)
        return value * 100 if percent else value

    return compute


def rounded(value: Decimal | None, decimals: int) -> float | None:
    if value is None:
        return None
    return float(value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------------------------------------
# 搬迁户与人口 (the registry)

REGISTRY = IndicatorGroup("registry", "搬迁群众")


@REGISTRY.fold(HouseholdRegistered, effective=lambda _e, p: p.registered_on)
def _household(p: HouseholdRegistered) -> Deltas:
    return {"households": 1, f"households:{p.kind.value}": 1}


@REGISTRY.fold(ResidentRegistered)
def _resident(p: ResidentRegistered) -> Deltas:
    return {"residents": 1, f"residents:{p.household_kind.value}": 1}


@REGISTRY.fold(ResidentMovedOut, effective=lambda _e, p: p.moved_out_on)
def _moved_out(p: ResidentMovedOut) -> Deltas:
    return {"residents": -1, f"residents:{p.household_kind.value}": -1, "moved_out": 1}


REGISTRY.indicator("households", "搬迁户数", "户", "households", headline=True)
REGISTRY.indicator("residents", "搬迁人口", "人", "residents", headline=True)
for _kind, _label in HOUSEHOLD_KIND_LABELS.items():
    REGISTRY.indicator(f"households:{_kind.value}", f"{_label}户数", "户", f"households:{_kind.value}")
    REGISTRY.indicator(f"residents:{_kind.value}", f"{_label}人口", "人", f"residents:{_kind.value}")

# ---------------------------------------------------------------------------------------------
# 就业 (the labour-force ledger)

EMPLOYMENT = IndicatorGroup("employment", "就业帮扶")


@EMPLOYMENT.fold(HouseholdLabourChanged)
def _labour(p: HouseholdLabourChanged) -> Deltas:
    return {
        "labour_force": p.labour_count - p.previous_labour_count,
        "households_with_labour": int(p.labour_count > 0) - int(p.previous_labour_count > 0),
    }


def _spell(p: WorkerEmployed | EmploymentEnded, sign: int) -> Deltas:
    away = p.employment_type in AWAY_TYPES
    return {
        "employed": sign,
        f"employed:{p.employment_type.value}": sign,
        "employed_away" if away else "employed_local": sign,
        "organised_export": sign * int(p.organised_export),
        "wage_sum": sign * p.monthly_wage,
    }


@EMPLOYMENT.fold(WorkerEmployed, effective=lambda _e, p: p.started_on)
def _employed(p: WorkerEmployed) -> Deltas:
    return _spell(p, +1)


@EMPLOYMENT.fold(EmploymentEnded, effective=lambda _e, p: p.ended_on)
def _ended(p: EmploymentEnded) -> Deltas:
    return _spell(p, -1)


@EMPLOYMENT.fold(TrainingCompleted, effective=lambda _e, p: p.completed_on)
def _trained(p: TrainingCompleted) -> Deltas:
    return {"training_person_times": 1, "trained_persons": int(p.first_training)}


@EMPLOYMENT.fold(HouseholdZeroEmploymentRaised)
def _zero_raised(_p: HouseholdZeroEmploymentRaised) -> Deltas:
    return {"zero_employment_households": 1}


@EMPLOYMENT.fold(HouseholdZeroEmploymentCleared)
def _zero_cleared(_p: HouseholdZeroEmploymentCleared) -> Deltas:
    return {"zero_employment_households": -1}


EMPLOYMENT.indicator("labour_force", "劳动力", "人", "labour_force", headline=True)
EMPLOYMENT.indicator("employed", "已就业劳动力", "人", "employed", headline=True)
EMPLOYMENT.indicator(
    "employment_rate", "人均就业落实率", "%", ratio("employed", "labour_force", percent=True), decimals=2, headline=True
)
EMPLOYMENT.indicator(
    "employed_per_household", "户均就业", "人", ratio("employed", "households_with_labour"), decimals=2, headline=True
)
EMPLOYMENT.indicator(
    "zero_employment_households", "零就业家庭", "户", "zero_employment_households", better="lower", headline=True
)
EMPLOYMENT.indicator("households_with_labour", "有劳动力家庭", "户", "households_with_labour")
EMPLOYMENT.indicator("employed_away", "外出务工", "人", "employed_away")
EMPLOYMENT.indicator("employed_local", "就近就地就业", "人", "employed_local")
for _type in EmploymentType:
    EMPLOYMENT.indicator(f"employed:{_type.value}", EMPLOYMENT_TYPE_LABELS[_type], "人", f"employed:{_type.value}")
EMPLOYMENT.indicator("organised_export", "有组织劳务输出", "人", "organised_export")
EMPLOYMENT.indicator("training_person_times", "培训人次", "人次", "training_person_times")
EMPLOYMENT.indicator("trained_persons", "培训人数", "人", "trained_persons")
EMPLOYMENT.indicator("average_monthly_wage", "月均工资", "元", ratio("wage_sum", "employed"))

# ---------------------------------------------------------------------------------------------

GROUPS: list[IndicatorGroup] = [REGISTRY, EMPLOYMENT]
FOLDS: dict[str, Fold] = {f.event_type: f for g in GROUPS for f in g.folds}
INDICATORS: dict[str, Indicator] = {i.key: i for g in GROUPS for i in g.indicators}


# ---------------------------------------------------------------------------------------------
# API models


class AreaRef(BaseModel):
    code: str
    name: str
    level: str
    path: list[str]


class IndicatorValue(BaseModel):
    key: str
    label: str
    group: str
    unit: str
    value: float | None
    target: float | None = None
    gap: float | None = None
    met: bool | None = None
    better: str
    headline: bool


class ChildView(BaseModel):
    area: AreaRef
    values: dict[str, float | None]
    met: dict[str, bool | None]
    targets: dict[str, float] = {}  # the headline targets that apply to this child (its own level)
    counters: dict[str, int] = {}  # the raw counters too, for breakdowns side by side (employed by type)


class View(BaseModel):
    area: AreaRef
    as_of: date | None = None
    updated_at: str | None = None
    indicators: list[IndicatorValue]
    counters: dict[str, int]
    children: list[ChildView] = []


class TrendPoint(BaseModel):
    date: date
    value: float | None


class Trend(BaseModel):
    area: AreaRef
    indicator: str
    label: str
    unit: str
    target: float | None
    points: list[TrendPoint]


class ZeroHousehold(BaseModel):
    household_id: str
    area_path: list[str]
    community: str | None
    building: str | None
    labour_count: int
    since: str
    days_at_zero: int


EVENT_LABELS: dict[str, str] = {
    "governance.area_registered": "区域登记",
    "governance.household_registered": "搬迁户登记",
    "governance.resident_registered": "居民登记",
    "governance.resident_updated": "劳动能力变更",
    "governance.resident_moved_out": "居民迁出",
    "employment.worker_employed": "登记就业",
    "employment.employment_ended": "结束就业",
    "employment.training_completed": "完成培训",
    "employment.household_labour_changed": "家庭劳动力变化",
    "employment.household_zero_employment_raised": "零就业家庭预警",
    "employment.household_zero_employment_cleared": "零就业家庭清零",
}


class FeedItem(BaseModel):
    event_id: str
    type: str
    label: str
    area_path: list[str]
    at: str
    detail: dict[str, Any] = {}
