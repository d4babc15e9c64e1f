"""The indicators, declared: which event types move which counters, and how each figure that
officials read is computed from the counters. A service that adds events adds its group here.

Counters are integers kept per area at every level (building → province): a change in a
community moves its town, county, city and province at once. Derived figures are computed when
read, with the rounding officials use (half up: 97.37 %, 2.24)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from relocation_shared.clock import business_day
from relocation_shared.events import EventPayload
from relocation_shared.events.community import (
    DisputeMediated,
    DisputeRegistered,
    PointsAwarded,
    PointsRedeemed,
    RequestOverdue,
    RequestRated,
    RequestReopened,
    RequestResolved,
    RequestState,
    RequestSubmitted,
    VisitRecorded,
)
from relocation_shared.events.employment import (
    EmploymentEnded,
    HouseholdLabourChanged,
    HouseholdZeroEmploymentCleared,
    HouseholdZeroEmploymentRaised,
    TrainingCompleted,
    WorkerEmployed,
)
from relocation_shared.events.governance import HouseholdRegistered, ResidentMovedOut, ResidentRegistered
from relocation_shared.events.projects import (
    INDUSTRY_CHAIN_LABELS,
    PROJECT_STATUS_LABELS,
    SOURCE_KIND_LABELS,
    CollectiveAssetRecorded,
    CollectiveIncomeRecorded,
    DemonstrationChanged,
    DividendPaid,
    FundsAllocated,
    FundsDisbursed,
    JobLinked,
    JobUnlinked,
    PaymentKind,
    PaymentReversed,
    ProjectApproved,
    ProjectStatus,
    ProjectStatusChanged,
    SourceBudgetSet,
)
from relocation_shared.events.vocab import AWAY_TYPES, EMPLOYMENT_TYPE_LABELS, HOUSEHOLD_KIND_LABELS, EmploymentType

Counters = dict[str, int]
Deltas = dict[str, int]
Compute = Callable[[Counters], Decimal | None]


class EventHead(Protocol):
    """What the fold reads of an event's envelope: an `Envelope`, or the read model's lighter
    copy of these four fields (it holds tens of thousands of events at a time)."""

    @property
    def id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def area_path(self) -> tuple[str, ...]: ...
    @property
    def occurred_at(self) -> datetime: ...


@dataclass(frozen=True)
class Fold:
    """How one event type moves counters, and on which day it takes effect (for trends and
    as-of queries: a job started on 2025-03-01 counts from that day, whenever it was recorded)."""

    event_type: str
    deltas: Callable[[Any], Deltas]
    effective: Callable[[EventHead, Any], date]


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
        self, model: type[EventPayload], *, effective: Callable[[EventHead, Any], date] | None = None
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


def _occurred(env: EventHead, _p: Any) -> date:
    return business_day(env.occurred_at)


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


def scaled(compute: Compute, factor: Decimal) -> Compute:
    """fen → 万元 (÷ 1,000,000), minutes → hours (÷ 60)."""

    def fn(c: Counters) -> Decimal | None:
        value = compute(c)
        return None if value is None else value / factor

    return fn


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
# 社区治理 (community work in the governance service: the 四单 requests, disputes, visits, points)

COMMUNITY = IndicatorGroup("community", "社区治理")
OPEN_STATES = frozenset({RequestState.SUBMITTED, RequestState.DISPATCHED, RequestState.ACCEPTED, RequestState.REOPENED})


@COMMUNITY.fold(RequestSubmitted)
def _request_submitted(_p: RequestSubmitted) -> Deltas:
    return {"requests_submitted": 1, "requests_open": 1}


@COMMUNITY.fold(RequestResolved)
def _request_resolved(p: RequestResolved) -> Deltas:
    # 逾期未办结: an open request that has missed a deadline leaves the count when it is resolved
    return {
        "requests_open": -1,
        "requests_resolved": 1,
        "requests_resolved_low": int(p.resolved_low_level),
        "requests_overdue_open": -int(p.was_overdue),
    }


@COMMUNITY.fold(RequestRated)
def _request_rated(p: RequestRated) -> Deltas:
    return {"requests_closed": 1, "rating_sum": p.score, "close_minutes_sum": p.minutes_to_close}


@COMMUNITY.fold(RequestReopened)
def _request_reopened(p: RequestReopened) -> Deltas:
    """群众有异议: the closed request is open again; its rating and closure no longer count."""
    return {
        "requests_open": 1,
        "requests_resolved": -1,
        "requests_resolved_low": -int(p.previous_resolved_low_level),
        "requests_closed": -1,
        "rating_sum": -p.previous_score,
        "close_minutes_sum": -p.previous_minutes_to_close,
        "requests_overdue_open": int(p.previous_was_overdue),
    }


@COMMUNITY.fold(RequestOverdue)
def _request_overdue(p: RequestOverdue) -> Deltas:
    """A request's first missed deadline; it counts as overdue-and-open while it is open (a missed
    rating deadline comes after resolution: counted in the total, not as open)."""
    if not p.first_overdue:
        return {}
    return {"requests_overdue": 1, "requests_overdue_open": int(p.state in OPEN_STATES)}


@COMMUNITY.fold(DisputeRegistered)
def _dispute_registered(_p: DisputeRegistered) -> Deltas:
    return {"disputes_registered": 1, "disputes_pending": 1}


@COMMUNITY.fold(DisputeMediated)
def _dispute_mediated(p: DisputeMediated) -> Deltas:
    return {"disputes_pending": -1, "disputes_concluded": 1, "disputes_successful": int(p.successful)}


@COMMUNITY.fold(VisitRecorded, effective=lambda _e, p: p.visited_on)
def _visit(p: VisitRecorded) -> Deltas:
    return {"visits": 1, f"visits:{p.visited_on.year}": 1}


@COMMUNITY.fold(PointsAwarded, effective=lambda _e, p: p.awarded_on)
def _points_awarded(p: PointsAwarded) -> Deltas:
    return {"points_awarded": p.points}


@COMMUNITY.fold(PointsRedeemed, effective=lambda _e, p: p.redeemed_on)
def _points_redeemed(p: PointsRedeemed) -> Deltas:
    return {"points_redeemed": p.points}


def dated(counters: Counters, on: date) -> Counters:
    """The counters as read on a business day: the yearly ones (上门服务 has a target per county
    and year) are those of that day's year, so an as-of or a trend point reads its own year."""
    return {**counters, "visits_this_year": counters.get(f"visits:{on.year}", 0)}


COMMUNITY.indicator("requests_submitted", "群众点单", "件", "requests_submitted", headline=True)
COMMUNITY.indicator("requests_open", "在办诉求", "件", "requests_open", better="lower")
COMMUNITY.indicator("requests_resolved", "已办结", "件", "requests_resolved")
COMMUNITY.indicator("requests_closed", "已评单关闭", "件", "requests_closed")
COMMUNITY.indicator(
    "request_completion_rate",
    "民情实事办结率",
    "%",
    ratio("requests_resolved", "requests_submitted", percent=True),
    decimals=2,
    headline=True,
)
COMMUNITY.indicator("requests_overdue_open", "逾期未办结", "件", "requests_overdue_open", better="lower", headline=True)
COMMUNITY.indicator("requests_overdue", "累计逾期", "件", "requests_overdue", better="lower")
COMMUNITY.indicator(
    "resolved_low_level_share",
    "楼栋网格办结占比",
    "%",
    ratio("requests_resolved_low", "requests_resolved", percent=True),
    decimals=2,
)
COMMUNITY.indicator("average_rating", "评单平均分", "分", ratio("rating_sum", "requests_closed"), decimals=2)
COMMUNITY.indicator(
    "mean_hours_to_close",
    "平均办结时长",
    "小时",
    scaled(ratio("close_minutes_sum", "requests_closed"), Decimal(60)),
    decimals=1,
    better="lower",
)
COMMUNITY.indicator("disputes_registered", "矛盾纠纷登记", "件", "disputes_registered")
COMMUNITY.indicator("disputes_pending", "调解中", "件", "disputes_pending", better="lower")
COMMUNITY.indicator("disputes_concluded", "已调解", "件", "disputes_concluded")
COMMUNITY.indicator(
    "mediation_success_rate",
    "调解成功率",
    "%",
    ratio("disputes_successful", "disputes_concluded", percent=True),
    decimals=2,
    headline=True,
)
COMMUNITY.indicator("visits_this_year", "本年上门服务", "次", "visits_this_year", headline=True)
COMMUNITY.indicator("visits", "累计上门服务", "次", "visits")
COMMUNITY.indicator("points_awarded", "积分发放", "分", "points_awarded")
COMMUNITY.indicator("points_redeemed", "积分兑换", "分", "points_redeemed")

# ---------------------------------------------------------------------------------------------
# 项目资金 (follow-up industry projects and their money; amounts kept in fen, read in 万元)

PROJECTS = IndicatorGroup("projects", "项目资金")
WAN_YUAN = Decimal(1_000_000)  # fen in 1万元


def _project_tags(kind: str, chain: str | None, sign: int) -> Deltas:
    out = {f"projects:kind:{kind}": sign}
    if chain:
        out[f"projects:chain:{chain}"] = sign
    return out


@PROJECTS.fold(ProjectApproved, effective=lambda _e, p: p.approved_on)
def _project_approved(p: ProjectApproved) -> Deltas:
    out: Deltas = {
        "projects": 1,
        f"projects:status:{ProjectStatus.APPROVED.value}": 1,
        "projects_demonstration": int(p.provincial_demonstration),
        "allocated_fen": p.allocated_fen,
        **_project_tags(p.kind.value, p.chain.value if p.chain else None, 1),
    }
    for a in p.allocations:
        key = f"allocated_fen:{a.source_kind.value}"
        out[key] = out.get(key, 0) + a.amount_fen
    return out


@PROJECTS.fold(FundsAllocated)
def _funds_allocated(p: FundsAllocated) -> Deltas:
    return {"allocated_fen": p.amount_fen, f"allocated_fen:{p.source_kind.value}": p.amount_fen}


@PROJECTS.fold(ProjectStatusChanged, effective=lambda _e, p: p.changed_on)
def _status_changed(p: ProjectStatusChanged) -> Deltas:
    out: Deltas = {f"projects:status:{p.from_status.value}": -1, f"projects:status:{p.to_status.value}": 1}
    for a in p.released:  # a cancelled project gives back what it had not disbursed
        out["allocated_fen"] = out.get("allocated_fen", 0) - a.amount_fen
        key = f"allocated_fen:{a.source_kind.value}"
        out[key] = out.get(key, 0) - a.amount_fen
    return out


@PROJECTS.fold(DemonstrationChanged)
def _demonstration(p: DemonstrationChanged) -> Deltas:
    return {"projects_demonstration": 1 if p.provincial_demonstration else -1}


@PROJECTS.fold(SourceBudgetSet)
def _budget(p: SourceBudgetSet) -> Deltas:
    return {"budget_fen": p.delta_fen, f"budget_fen:{p.source_kind.value}": p.delta_fen}


@PROJECTS.fold(FundsDisbursed, effective=lambda _e, p: p.disbursed_on)
def _disbursed(p: FundsDisbursed) -> Deltas:
    return {"disbursed_fen": p.amount_fen, f"disbursed_fen:{p.source_kind.value}": p.amount_fen}


@PROJECTS.fold(DividendPaid, effective=lambda _e, p: p.paid_on)
def _dividend(p: DividendPaid) -> Deltas:
    return {
        "dividends_fen": p.amount_fen,
        f"dividends_fen:{p.recipient.value}": p.amount_fen,
        "households_benefiting": p.households_benefiting_delta,
    }


@PROJECTS.fold(CollectiveIncomeRecorded, effective=lambda _e, p: p.received_on)
def _collective_income(p: CollectiveIncomeRecorded) -> Deltas:
    return {"collective_income_fen": p.amount_fen}


@PROJECTS.fold(CollectiveAssetRecorded, effective=lambda _e, p: p.recorded_on)
def _collective_asset(p: CollectiveAssetRecorded) -> Deltas:
    return {"collective_assets_fen": p.amount_fen}


@PROJECTS.fold(PaymentReversed, effective=lambda _e, p: p.reversed_on)
def _reversed(p: PaymentReversed) -> Deltas:
    """A compensating entry takes back what the entry it reverses added."""
    amount = p.amount_fen
    if p.payment_kind is PaymentKind.DISBURSEMENT:
        out = {"disbursed_fen": -amount}
        if p.source_kind:
            out[f"disbursed_fen:{p.source_kind.value}"] = -amount
        return out
    if p.payment_kind is PaymentKind.DIVIDEND:
        out = {"dividends_fen": -amount, "households_benefiting": p.households_benefiting_delta}
        if p.recipient:
            out[f"dividends_fen:{p.recipient.value}"] = -amount
        return out
    if p.payment_kind is PaymentKind.COLLECTIVE_INCOME:
        return {"collective_income_fen": -amount}
    return {"collective_assets_fen": -amount}


@PROJECTS.fold(JobLinked)
def _job_linked(_p: JobLinked) -> Deltas:
    return {"project_jobs": 1}


@PROJECTS.fold(JobUnlinked)
def _job_unlinked(_p: JobUnlinked) -> Deltas:
    return {"project_jobs": -1}


def _wan(key: str) -> Compute:
    return scaled(count(key), WAN_YUAN)


PROJECTS.indicator("projects", "项目个数", "个", "projects", headline=True)
for _status, _label in PROJECT_STATUS_LABELS.items():
    PROJECTS.indicator(f"projects:status:{_status.value}", f"{_label}项目", "个", f"projects:status:{_status.value}")
for _chain, _label in INDUSTRY_CHAIN_LABELS.items():
    PROJECTS.indicator(f"projects:chain:{_chain.value}", f"{_label}项目", "个", f"projects:chain:{_chain.value}")
PROJECTS.indicator("projects_demonstration", "省级示范项目", "个", "projects_demonstration")
PROJECTS.indicator("allocated", "安排资金", "万元", _wan("allocated_fen"), decimals=2, headline=True)
PROJECTS.indicator("disbursed", "已拨付资金", "万元", _wan("disbursed_fen"), decimals=2, headline=True)
PROJECTS.indicator(
    "disbursement_rate", "资金拨付率", "%", ratio("disbursed_fen", "allocated_fen", percent=True), decimals=2
)
for _source, _label in SOURCE_KIND_LABELS.items():
    PROJECTS.indicator(
        f"allocated:{_source.value}", f"{_label}·安排", "万元", _wan(f"allocated_fen:{_source.value}"), decimals=2
    )
    PROJECTS.indicator(
        f"disbursed:{_source.value}", f"{_label}·拨付", "万元", _wan(f"disbursed_fen:{_source.value}"), decimals=2
    )
PROJECTS.indicator("project_jobs", "项目带动就业", "人", "project_jobs", headline=True)
PROJECTS.indicator("dividends", "分红金额", "万元", _wan("dividends_fen"), decimals=2, headline=True)
PROJECTS.indicator("households_benefiting", "受益搬迁户", "户", "households_benefiting")
PROJECTS.indicator("collective_income", "集体经济收入", "万元", _wan("collective_income_fen"), decimals=2)
PROJECTS.indicator("collective_assets", "集体资产", "万元", _wan("collective_assets_fen"), decimals=2)

# ---------------------------------------------------------------------------------------------

GROUPS: list[IndicatorGroup] = [REGISTRY, EMPLOYMENT, COMMUNITY, PROJECTS]
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
    "governance.request_submitted": "群众点单",
    "governance.request_dispatched": "社区派单",
    "governance.request_accepted": "网格员接单",
    "governance.request_resolved": "诉求办结",
    "governance.request_rated": "党组织评单",
    "governance.request_reopened": "群众异议,重新办理",
    "governance.request_overdue": "诉求逾期",
    "governance.request_escalated": "吹哨上报",
    "governance.request_reported": "部门报到",
    "governance.dispute_registered": "矛盾纠纷登记",
    "governance.dispute_mediated": "矛盾纠纷调解",
    "governance.visit_recorded": "上门服务",
    "governance.points_awarded": "积分发放",
    "governance.points_redeemed": "积分兑换",
    "projects.project_approved": "项目批复",
    "projects.funds_allocated": "追加安排资金",
    "projects.status_changed": "项目状态变更",
    "projects.funds_disbursed": "资金拨付",
    "projects.dividend_paid": "项目分红",
    "projects.collective_income_recorded": "集体经济收入",
    "projects.collective_asset_recorded": "集体资产登记",
    "projects.payment_reversed": "冲正",
    "projects.job_linked": "项目带动就业",
    "projects.job_unlinked": "项目就业结束",
}


class FeedItem(BaseModel):
    event_id: str
    type: str
    label: str
    area_path: list[str]
    at: str
    detail: dict[str, Any] = {}
