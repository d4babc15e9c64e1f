"""Events of the projects service (follow-up industry projects and their money): topic
relocation.projects.

Money is in fen (integers). Every event carries what the read model needs to roll its figures
up by area without asking the service: the project's kind, industry chain and the kinds of
the sources that fund it, amounts as deltas, and counts as deltas (households benefiting)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from relocation_shared.events.catalog import CATALOG
from relocation_shared.events.envelope import EventPayload
from relocation_shared.topics import PROJECTS


class SourceKind(StrEnum):
    CENTRAL_EARMARKED = "central_earmarked"  # 中央财政衔接戴帽资金
    CITY_SPECIAL = "city_special"  # 市级专项资金
    OTHER = "other"  # 其他资金


SOURCE_KIND_LABELS = {
    SourceKind.CENTRAL_EARMARKED: "中央财政衔接戴帽资金",
    SourceKind.CITY_SPECIAL: "市级专项资金",
    SourceKind.OTHER: "其他资金",
}


class ProjectKind(StrEnum):
    INDUSTRY = "industry"  # 后续扶持产业项目
    COLLECTIVE_ECONOMY = "collective_economy"  # 社区集体经济项目
    EMPLOYMENT = "employment"  # 就业帮扶项目(帮扶车间、就业基地)
    INFRASTRUCTURE = "infrastructure"  # 配套基础设施项目
    PUBLIC_SERVICE = "public_service"  # 公共服务设施项目
    OTHER = "other"


PROJECT_KIND_LABELS = {
    ProjectKind.INDUSTRY: "后续扶持产业项目",
    ProjectKind.COLLECTIVE_ECONOMY: "社区集体经济项目",
    ProjectKind.EMPLOYMENT: "就业帮扶项目",
    ProjectKind.INFRASTRUCTURE: "配套基础设施项目",
    ProjectKind.PUBLIC_SERVICE: "公共服务设施项目",
    ProjectKind.OTHER: "其他项目",
}


class IndustryChain(StrEnum):
    AGRICULTURE = "agriculture"  # 特色农业
    LIGHT_INDUSTRY = "light_industry"  # 特色轻工业
    CULTURE_TOURISM = "culture_tourism"  # 特色文旅


INDUSTRY_CHAIN_LABELS = {
    IndustryChain.AGRICULTURE: "特色农业",
    IndustryChain.LIGHT_INDUSTRY: "特色轻工业",
    IndustryChain.CULTURE_TOURISM: "特色文旅",
}


class ProjectStatus(StrEnum):
    APPROVED = "approved"
    UNDER_CONSTRUCTION = "under_construction"
    OPERATING = "operating"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


PROJECT_STATUS_LABELS = {
    ProjectStatus.APPROVED: "已批复",
    ProjectStatus.UNDER_CONSTRUCTION: "在建",
    ProjectStatus.OPERATING: "运营中",
    ProjectStatus.COMPLETED: "已完结",
    ProjectStatus.CANCELLED: "已撤销",
}


class PaymentKind(StrEnum):
    DISBURSEMENT = "disbursement"  # 资金拨付
    DIVIDEND = "dividend"  # 分红
    COLLECTIVE_INCOME = "collective_income"  # 集体经济收入
    COLLECTIVE_ASSET = "collective_asset"  # 集体资产


PAYMENT_KIND_LABELS = {
    PaymentKind.DISBURSEMENT: "资金拨付",
    PaymentKind.DIVIDEND: "分红",
    PaymentKind.COLLECTIVE_INCOME: "集体经济收入",
    PaymentKind.COLLECTIVE_ASSET: "集体资产",
}


class Recipient(StrEnum):
    COLLECTIVE = "collective"  # 社区集体
    HOUSEHOLD = "household"  # 搬迁户


RECIPIENT_LABELS = {Recipient.COLLECTIVE: "社区集体", Recipient.HOUSEHOLD: "搬迁户"}


class SourceAmount(BaseModel):
    """An amount from one funding source for one budget year (资金年度)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_id: str
    source_kind: SourceKind
    year: int = Field(ge=2000, le=2100)
    amount_fen: int = Field(ge=0)


@CATALOG.event("projects.funding_source_registered", version=1, topic=PROJECTS)
class FundingSourceRegistered(EventPayload):
    source_id: str
    source_kind: SourceKind
    name: str
    area_code: str


@CATALOG.event("projects.source_budget_set", version=1, topic=PROJECTS)
class SourceBudgetSet(EventPayload):
    source_id: str
    source_kind: SourceKind
    year: int
    budget_fen: int = Field(ge=0)
    delta_fen: int = Field(description="new budget minus the previous one")


@CATALOG.event("projects.project_approved", version=1, topic=PROJECTS)
class ProjectApproved(EventPayload):
    project_id: str
    name: str
    kind: ProjectKind
    chain: IndustryChain | None
    community_codes: list[str]
    county_code: str
    provincial_demonstration: bool
    approved_on: date
    allocations: list[SourceAmount]
    allocated_fen: int = Field(ge=0)
    source_kinds: list[SourceKind]


@CATALOG.event("projects.funds_allocated", version=1, topic=PROJECTS)
class FundsAllocated(EventPayload):
    """Funding added to an approved project (追加资金)."""

    project_id: str
    kind: ProjectKind
    chain: IndustryChain | None
    status: ProjectStatus
    source_id: str
    source_kind: SourceKind
    year: int
    amount_fen: int = Field(gt=0)
    new_source_kind: bool = Field(description="the first allocation of this source kind to the project")


@CATALOG.event("projects.status_changed", version=1, topic=PROJECTS)
class ProjectStatusChanged(EventPayload):
    project_id: str
    kind: ProjectKind
    chain: IndustryChain | None
    source_kinds: list[SourceKind]
    provincial_demonstration: bool
    from_status: ProjectStatus
    to_status: ProjectStatus
    changed_on: date
    reason: str | None = None
    released: list[SourceAmount] = Field(
        default_factory=list, description="on cancellation: the undisbursed allocations given back"
    )


@CATALOG.event("projects.demonstration_changed", version=1, topic=PROJECTS)
class DemonstrationChanged(EventPayload):
    """The project became (or stopped being) a provincial demonstration site (省级示范点)."""

    project_id: str
    kind: ProjectKind
    chain: IndustryChain | None
    status: ProjectStatus
    source_kinds: list[SourceKind]
    provincial_demonstration: bool


@CATALOG.event("projects.funds_disbursed", version=1, topic=PROJECTS)
class FundsDisbursed(EventPayload):
    entry_id: str
    project_id: str
    kind: ProjectKind
    chain: IndustryChain | None
    source_id: str
    source_kind: SourceKind
    year: int
    amount_fen: int = Field(gt=0)
    disbursed_on: date
    allocation_remaining_fen: int = Field(ge=0)
    budget_remaining_fen: int = Field(ge=0)


@CATALOG.event("projects.dividend_paid", version=1, topic=PROJECTS)
class DividendPaid(EventPayload):
    entry_id: str
    project_id: str
    kind: ProjectKind
    chain: IndustryChain | None
    source_kinds: list[SourceKind]
    recipient: Recipient
    community_code: str
    household_id: str | None = None
    amount_fen: int = Field(gt=0)
    year: int
    paid_on: date
    households_benefiting_delta: int = Field(
        ge=0, le=1, description="1 when the household receives its first (unreversed) dividend"
    )


# The fields every entry of a community's collective economy (村集体经济) starts with.
class _CollectiveEntry(EventPayload):
    entry_id: str
    community_code: str
    project_id: str | None = None
    chain: IndustryChain | None = None
    source_kinds: list[SourceKind]
    amount_fen: int = Field(gt=0)


@CATALOG.event("projects.collective_income_recorded", version=1, topic=PROJECTS)
class CollectiveIncomeRecorded(_CollectiveEntry):
    year: int
    received_on: date


@CATALOG.event("projects.collective_asset_recorded", version=1, topic=PROJECTS)
class CollectiveAssetRecorded(_CollectiveEntry):
    recorded_on: date
    description: str


@CATALOG.event("projects.payment_reversed", version=1, topic=PROJECTS)
class PaymentReversed(EventPayload):
    """A compensating ledger entry: the figures of `payment_kind` go down by `amount_fen`."""

    entry_id: str
    reverses: str
    payment_kind: PaymentKind
    amount_fen: int = Field(gt=0, description="the amount taken back (positive)")
    project_id: str | None = None
    kind: ProjectKind | None = None
    chain: IndustryChain | None = None
    source_id: str | None = None
    source_kind: SourceKind | None = None
    source_kinds: list[SourceKind]
    year: int | None = None
    recipient: Recipient | None = None
    community_code: str | None = None
    household_id: str | None = None
    reason: str
    reversed_on: date
    households_benefiting_delta: int = Field(
        ge=-1, le=0, description="-1 when the household no longer has any unreversed dividend"
    )


# The fields of a link between a project and an employment spell (带动就业).
class _JobLink(EventPayload):
    project_id: str
    kind: ProjectKind
    chain: IndustryChain | None
    source_kinds: list[SourceKind]
    spell_id: str
    resident_id: str
    household_id: str
    community_code: str


@CATALOG.event("projects.job_linked", version=1, topic=PROJECTS)
class JobLinked(_JobLink):
    """An employment spell is counted as a job the project created (带动就业)."""

    jobs: int = Field(ge=0, description="open linked spells of the project after the change")


@CATALOG.event("projects.job_unlinked", version=1, topic=PROJECTS)
class JobUnlinked(_JobLink):
    """A linked spell stops counting: the employment ended, or the link was withdrawn."""

    reason: str = Field(description="employment_ended / unlinked")
    jobs: int = Field(ge=0)
