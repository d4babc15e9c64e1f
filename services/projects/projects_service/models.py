"""Models of the follow-up projects and their money, and the rules that need no database:
money in fen and its display, the project status machine, the drawdown of an allocation and a
source's yearly budget, and area paths derived from the structure of area codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, field_validator

from relocation_shared.batch import Input
from relocation_shared.errors import Conflict
from relocation_shared.events.projects import (
    INDUSTRY_CHAIN_LABELS,
    PAYMENT_KIND_LABELS,
    PROJECT_KIND_LABELS,
    PROJECT_STATUS_LABELS,
    RECIPIENT_LABELS,
    SOURCE_KIND_LABELS,
    IndustryChain,
    PaymentKind,
    ProjectKind,
    ProjectStatus,
    Recipient,
    SourceKind,
)
from relocation_shared.pii import scrub

# --- money ------------------------------------------------------------------------------------

MAX_FEN = 10**13  # 1000亿元: above any budget this platform will see; refuses typos of many zeros
FEN_PER_YUAN = 100
FEN_PER_WAN_YUAN = 1_000_000


def _fen(v: object, *, allow_zero: bool) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError("金额应为以“分”为单位的整数,不能有小数或文字")
    if v < 0:
        raise ValueError("金额不能为负数")
    if v == 0 and not allow_zero:
        raise ValueError("金额应大于 0")
    if v > MAX_FEN:
        raise ValueError("金额过大(上限 1000 亿元)")
    return v


def _positive_fen(v: object) -> int:
    return _fen(v, allow_zero=False)


def _non_negative_fen(v: object) -> int:
    return _fen(v, allow_zero=True)


PositiveFen = Annotated[int, BeforeValidator(_positive_fen), Field(description="金额(分),正整数")]
NonNegativeFen = Annotated[int, BeforeValidator(_non_negative_fen), Field(description="金额(分),非负整数")]
Year = Annotated[int, Field(strict=True, ge=2000, le=2100, description="资金年度")]


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals, exactly: 144917000000 → '1449170000.00'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{whole}.{cents:02d}"


def wan_yuan(fen: int) -> str:
    """Fen in 万元 (ten thousand yuan), rounded half up to two decimals, as the reports write it."""
    value = (Decimal(fen) / FEN_PER_WAN_YUAN).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{value:.2f}"


class Money(BaseModel):
    fen: int
    yuan: str
    wan_yuan: str = Field(description="万元")

    @classmethod
    def of(cls, fen: int) -> Money:
        return cls(fen=fen, yuan=yuan(fen), wan_yuan=wan_yuan(fen))


# --- areas ------------------------------------------------------------------------------------

_DIGITS = re.compile(r"^[0-9]+$")


def path_of(code: str) -> tuple[str, ...]:
    """The area path of a code from its structure: province 520000, city (first 4 digits + 00),
    county (first 6 digits), town (first 9 digits + 000), community (all 12 digits).
    Raises ValueError for a code that has none of these shapes."""
    if not _DIGITS.match(code) or len(code) not in (6, 12):
        raise ValueError(f"区划代码 {code} 应为6位(省市县)或12位(镇、社区)数字")
    province, city, county = code[:2] + "0000", code[:4] + "00", code[:6]
    if code[:2] == "00":
        raise ValueError(f"区划代码 {code} 无效")
    if len(code) == 6:
        if code[2:] == "0000":
            return (province,)
        if code[4:] == "00":
            return (province, city)
        return (province, city, county)
    if code[2:4] == "00" or code[4:6] == "00" or code[6:9] == "000":
        raise ValueError(f"区划代码 {code} 不是镇(街道)或社区代码")
    town = code[:9] + "000"
    if code[9:] == "000":
        return (province, city, county, town)
    return (province, city, county, town, code)


def community_path(code: str) -> tuple[str, ...]:
    """The path of a resettlement community (安置社区); ValueError for any other code."""
    path = path_of(code)
    if len(path) != 5:
        raise ValueError(f"{code} 不是社区(村)代码:应为12位且末三位不为000")
    return path


def project_area_path(community_codes: list[str]) -> tuple[str, ...]:
    """Where a project's figures roll up: the community's path when it serves one community,
    otherwise the deepest area all its communities share (their town, or their county). A
    project serves communities of one county (projects are implemented by counties)."""
    paths = [community_path(c) for c in community_codes]
    if len({p[2] for p in paths}) != 1:
        raise ValueError("一个项目服务的安置社区应属于同一县(市、区)")
    common: list[str] = []
    for level in zip(*paths, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return tuple(common)


def community_of(area_path: list[str] | tuple[str, ...]) -> str | None:
    """The community code in a path reaching the community level or below, else None."""
    return area_path[4] if len(area_path) > 4 else None


# --- the status machine -----------------------------------------------------------------------

TRANSITIONS: dict[ProjectStatus, frozenset[ProjectStatus]] = {
    ProjectStatus.APPROVED: frozenset({ProjectStatus.UNDER_CONSTRUCTION, ProjectStatus.CANCELLED}),
    ProjectStatus.UNDER_CONSTRUCTION: frozenset({ProjectStatus.OPERATING, ProjectStatus.CANCELLED}),
    ProjectStatus.OPERATING: frozenset({ProjectStatus.COMPLETED}),
    ProjectStatus.COMPLETED: frozenset(),
    ProjectStatus.CANCELLED: frozenset(),
}

# Jobs may be linked while the project is being built or runs; money may move until it is cancelled.
LINKABLE = frozenset({ProjectStatus.APPROVED, ProjectStatus.UNDER_CONSTRUCTION, ProjectStatus.OPERATING})
DISBURSABLE = frozenset(
    {ProjectStatus.APPROVED, ProjectStatus.UNDER_CONSTRUCTION, ProjectStatus.OPERATING, ProjectStatus.COMPLETED}
)


def status_label(status: ProjectStatus | str) -> str:
    return PROJECT_STATUS_LABELS[ProjectStatus(status)]


def check_transition(current: ProjectStatus, target: ProjectStatus) -> None:
    """Refuse a transition the machine does not have: 409 naming the current state."""
    if target not in TRANSITIONS[current]:
        allowed = "、".join(status_label(s) for s in sorted(TRANSITIONS[current])) or "无(已是终态)"
        raise Conflict(
            f"项目当前状态为“{status_label(current)}”,不能变更为“{status_label(target)}”(可变更为:{allowed})",
            field="status",
            current=current.value,
        )


def check_dividend_allowed(status: ProjectStatus) -> None:
    if status is not ProjectStatus.OPERATING:
        raise Conflict(
            f"项目当前状态为“{status_label(status)}”,只有运营中的项目才能分红",
            field="status",
            current=status.value,
        )


# --- the money rules --------------------------------------------------------------------------


@dataclass
class Balance:
    """What is left to draw: an allocation's undisbursed amount, or a source's budget for a year."""

    key: str
    remaining: int
    drawn: int = 0

    def draw(self, amount: int) -> None:
        if amount <= 0:
            raise ValueError("a drawdown is positive")
        if amount > self.remaining:
            raise OverDraw(self, amount)
        self.remaining -= amount
        self.drawn += amount


class OverDraw(Exception):
    def __init__(self, balance: Balance, amount: int) -> None:
        super().__init__(f"{balance.key}: {amount} > {balance.remaining}")
        self.balance = balance
        self.amount = amount


def check_disbursement(*, amount: int, allocation: Balance, budget: Balance) -> None:
    """A disbursement draws on the project's allocation from the source and on the source's budget
    for that year; neither can go below zero. Both are checked before either is drawn."""
    if amount > allocation.remaining:
        raise Conflict(
            f"拨付金额 {yuan(amount)} 元超过该项目此项资金尚未拨付的额度 {yuan(allocation.remaining)} 元",
            field="amount_fen",
            remaining_fen=allocation.remaining,
        )
    if amount > budget.remaining:
        raise Conflict(
            f"拨付金额 {yuan(amount)} 元超过该资金来源本年度预算余额 {yuan(budget.remaining)} 元",
            field="amount_fen",
            budget_remaining_fen=budget.remaining,
        )
    allocation.draw(amount)
    budget.draw(amount)


def benefit_delta(before: int, change: int) -> int:
    """Households benefiting (受益户) counts households with at least one unreversed dividend:
    +1 when a household's count goes from 0 to positive, -1 when it returns to 0."""
    after = before + change
    if after < 0:
        raise ValueError("a household cannot have fewer than zero dividends")
    return int(after > 0) - int(before > 0)


def clean_text(text: str | None) -> str | None:
    """Free text (memos, reasons) is stored and published with ID and phone numbers masked."""
    return scrub(text) if text else text


# --- request bodies ---------------------------------------------------------------------------

_ID = Field(min_length=1, max_length=64)


class BudgetIn(Input):
    year: Year
    amount_fen: NonNegativeFen


class BudgetSet(Input):
    amount_fen: NonNegativeFen


class FundingSourceIn(Input):
    kind: SourceKind = Field(
        description="central_earmarked 中央财政衔接戴帽资金 / city_special 市级专项资金 / other 其他资金"
    )
    name: str = Field(min_length=1, max_length=100)
    area_code: str = Field(pattern=r"^[0-9]{6}$", description="资金管理层级:省、市或县的6位代码")
    budgets: list[BudgetIn] = Field(default_factory=list, max_length=50)

    @field_validator("area_code")
    @classmethod
    def _area(cls, v: str) -> str:
        path_of(v)
        return v


class AllocationIn(Input):
    source_id: str = _ID
    year: Year
    amount_fen: PositiveFen


class ProjectIn(Input):
    name: str = Field(min_length=1, max_length=100)
    kind: ProjectKind = Field(
        description="industry 后续扶持产业项目 / collective_economy 社区集体经济项目 / employment 就业帮扶项目 / "
        "infrastructure 配套基础设施项目 / public_service 公共服务设施项目 / other 其他"
    )
    chain: IndustryChain | None = Field(
        None, description="产业链:agriculture 特色农业 / light_industry 特色轻工业 / culture_tourism 特色文旅"
    )
    community_codes: list[str] = Field(min_length=1, max_length=50, description="服务的安置社区")
    allocations: list[AllocationIn] = Field(min_length=1, max_length=20, description="各资金来源的安排")
    provincial_demonstration: bool = Field(False, description="省级示范点项目")
    approved_on: date
    description: str | None = Field(None, max_length=500)

    @field_validator("community_codes")
    @classmethod
    def _communities(cls, v: list[str]) -> list[str]:
        for code in v:
            community_path(code)
        if len(set(v)) != len(v):
            raise ValueError("安置社区重复")
        return v


class ProjectRow(ProjectIn):
    pass


class StatusIn(Input):
    status: ProjectStatus = Field(
        description="under_construction 在建 / operating 运营中 / completed 已完结 / cancelled 已撤销"
    )
    changed_on: date | None = None
    reason: str | None = Field(None, max_length=200)


class StatusRow(StatusIn):
    project_id: str = _ID


class DemonstrationIn(Input):
    provincial_demonstration: bool


class DisbursementIn(Input):
    source_id: str = _ID
    year: Year
    amount_fen: PositiveFen
    disbursed_on: date
    memo: str | None = Field(None, max_length=200)


class DisbursementRow(DisbursementIn):
    project_id: str = _ID


class DividendIn(Input):
    recipient: Recipient = Field(description="collective 社区集体 / household 搬迁户")
    community_code: str | None = Field(None, pattern=r"^[0-9]{12}$", description="社区集体分红时必填")
    household_id: str | None = Field(None, min_length=1, max_length=64, description="分红到户时必填")
    amount_fen: PositiveFen
    year: Year
    paid_on: date
    memo: str | None = Field(None, max_length=200)


class DividendRow(DividendIn):
    project_id: str = _ID


class JobLinkIn(Input):
    spell_id: str = _ID


class JobLinkRow(JobLinkIn):
    project_id: str = _ID


class CollectiveIncomeIn(Input):
    amount_fen: PositiveFen
    year: Year
    received_on: date
    project_id: str | None = Field(None, min_length=1, max_length=64, description="收入来自哪个项目(可选)")
    memo: str | None = Field(None, max_length=200)


class CollectiveAssetIn(Input):
    amount_fen: PositiveFen
    recorded_on: date
    description: str = Field(min_length=1, max_length=200, description="资产说明,如 厂房、商铺")
    project_id: str | None = Field(None, min_length=1, max_length=64)


class ReversalIn(Input):
    reason: str = Field(min_length=1, max_length=200, description="冲正原因")
    reversed_on: date | None = None


# --- views ------------------------------------------------------------------------------------


class BudgetView(BaseModel):
    year: int
    budget: Money
    disbursed: Money
    remaining: Money


class FundingSource(BaseModel):
    id: str
    kind: SourceKind
    kind_label: str
    name: str
    area_code: str
    area_path: list[str]
    budgets: list[BudgetView]

    @classmethod
    def from_docs(cls, d: dict[str, Any], budgets: list[dict[str, Any]]) -> FundingSource:
        return cls(
            id=d["_id"],
            kind=d["kind"],
            kind_label=SOURCE_KIND_LABELS[SourceKind(d["kind"])],
            name=d["name"],
            area_code=d["area_code"],
            area_path=d["area_path"],
            budgets=[
                BudgetView(
                    year=b["year"],
                    budget=Money.of(b["budget_fen"]),
                    disbursed=Money.of(b["disbursed_fen"]),
                    remaining=Money.of(b["remaining_fen"]),
                )
                for b in sorted(budgets, key=lambda b: b["year"])
            ],
        )


class AllocationView(BaseModel):
    source_id: str
    source_kind: SourceKind
    source_kind_label: str
    year: int
    allocated: Money = Field(description="安排金额(扣除撤销时收回的部分)")
    disbursed: Money
    remaining: Money = Field(description="尚未拨付")
    released: Money = Field(description="项目撤销时收回")

    @classmethod
    def from_doc(cls, d: dict[str, Any]) -> AllocationView:
        return cls(
            source_id=d["source_id"],
            source_kind=d["source_kind"],
            source_kind_label=SOURCE_KIND_LABELS[SourceKind(d["source_kind"])],
            year=d["year"],
            allocated=Money.of(d["amount_fen"] - d["released_fen"]),
            disbursed=Money.of(d["disbursed_fen"]),
            remaining=Money.of(d["remaining_fen"]),
            released=Money.of(d["released_fen"]),
        )


class StatusStep(BaseModel):
    status: ProjectStatus
    status_label: str
    on: date
    reason: str | None = None


class Project(BaseModel):
    id: str
    name: str
    kind: ProjectKind
    kind_label: str
    chain: IndustryChain | None
    chain_label: str | None
    community_codes: list[str]
    county_code: str
    area_path: list[str]
    status: ProjectStatus
    status_label: str
    status_history: list[StatusStep]
    provincial_demonstration: bool
    approved_on: date
    description: str | None
    source_kinds: list[SourceKind]
    allocations: list[AllocationView]
    allocated: Money
    disbursed: Money
    dividends_paid: Money
    jobs: int = Field(description="带动就业:关联的在岗就业记录数")

    @classmethod
    def from_docs(cls, d: dict[str, Any], allocations: list[dict[str, Any]]) -> Project:
        chain = d.get("chain")
        views = [AllocationView.from_doc(a) for a in sorted(allocations, key=lambda a: (a["year"], a["source_id"]))]
        return cls(
            id=d["_id"],
            name=d["name"],
            kind=d["kind"],
            kind_label=PROJECT_KIND_LABELS[ProjectKind(d["kind"])],
            chain=chain,
            chain_label=INDUSTRY_CHAIN_LABELS[IndustryChain(chain)] if chain else None,
            community_codes=d["community_codes"],
            county_code=d["county_code"],
            area_path=d["area_path"],
            status=d["status"],
            status_label=status_label(d["status"]),
            status_history=[
                StatusStep(
                    status=s["status"], status_label=status_label(s["status"]), on=s["on"], reason=s.get("reason")
                )
                for s in d["status_history"]
            ],
            provincial_demonstration=d["provincial_demonstration"],
            approved_on=d["approved_on"],
            description=d.get("description"),
            source_kinds=d["source_kinds"],
            allocations=views,
            allocated=Money.of(sum(v.allocated.fen for v in views)),
            disbursed=Money.of(sum(v.disbursed.fen for v in views)),
            dividends_paid=Money.of(d["dividends_fen"]),
            jobs=d["jobs"],
        )


class LedgerEntry(BaseModel):
    id: str
    kind: PaymentKind
    kind_label: str
    reversal_of: str | None = Field(None, description="冲正记录:被冲正的记录")
    amount: Money = Field(description="冲正记录为负数")
    project_id: str | None
    source_id: str | None
    source_kind: SourceKind | None
    year: int | None
    recipient: Recipient | None
    recipient_label: str | None
    community_code: str | None
    household_id: str | None
    occurred_on: date
    memo: str | None
    area_path: list[str]
    recorded_at: datetime

    @classmethod
    def from_doc(cls, d: dict[str, Any]) -> LedgerEntry:
        recipient = d.get("recipient")
        return cls(
            id=d["_id"],
            kind=d["kind"],
            kind_label=("冲正:" if d.get("reversal_of") else "") + PAYMENT_KIND_LABELS[PaymentKind(d["kind"])],
            reversal_of=d.get("reversal_of"),
            amount=Money.of(d["amount_fen"]),
            project_id=d.get("project_id"),
            source_id=d.get("source_id"),
            source_kind=d.get("source_kind"),
            year=d.get("year"),
            recipient=recipient,
            recipient_label=RECIPIENT_LABELS[Recipient(recipient)] if recipient else None,
            community_code=d.get("community_code"),
            household_id=d.get("household_id"),
            occurred_on=d["occurred_on"],
            memo=d.get("memo"),
            area_path=d["area_path"],
            recorded_at=d["recorded_at"],
        )


class LinkedJob(BaseModel):
    spell_id: str
    resident_id: str
    household_id: str
    community_code: str | None
    employment_type: str
    started_on: date
    open: bool
    ended_on: date | None

    @classmethod
    def from_doc(cls, d: dict[str, Any]) -> LinkedJob:
        return cls(
            spell_id=d["_id"],
            resident_id=d["resident_id"],
            household_id=d["household_id"],
            community_code=d.get("community_code"),
            employment_type=d["employment_type"],
            started_on=d["started_on"],
            open=d["open"],
            ended_on=d.get("ended_on"),
        )


class CommunityCollective(BaseModel):
    community_code: str
    area_path: list[str]
    collective_income: Money = Field(description="集体经济收入累计")
    income_by_year: dict[str, Money]
    collective_assets: Money = Field(description="集体资产累计")
    dividends_to_collective: Money
    dividends_to_households: Money


class Figures(BaseModel):
    projects: int
    industry_projects: int = Field(description="后续扶持产业项目")
    demonstration_projects: int = Field(description="省级示范点项目")
    budget: Money = Field(description="本区域管理的资金来源的预算")
    allocated: Money
    industry_allocated: Money
    disbursed: Money
    dividends_paid: Money
    collective_income: Money
    collective_assets: Money
    jobs: int = Field(description="带动就业人数(在岗)")
    households_benefiting: int = Field(description="获得分红的搬迁户")


class SourceKindFigures(Figures):
    source_kind: SourceKind
    label: str


class Summary(BaseModel):
    area: str
    area_path: list[str]
    by_source_kind: list[SourceKindFigures] = Field(
        description="按资金来源:多来源共同出资的项目在每个来源下各计一次;合计只计一次"
    )
    total: Figures
    projects_by_status: dict[str, int]
    projects_by_chain: dict[str, int]
