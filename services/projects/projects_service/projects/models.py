"""Request and response bodies of projects: approval, funding added, status, demonstration."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, StrictBool, field_validator

from projects_service.money import ID_FIELD, Money, PositiveFen, Year
from projects_service.projects.domain import community_path, status_label
from relocation_shared.batch import Input
from relocation_shared.events.projects import (
    INDUSTRY_CHAIN_LABELS,
    PROJECT_KIND_LABELS,
    SOURCE_KIND_LABELS,
    IndustryChain,
    ProjectKind,
    ProjectStatus,
    SourceKind,
)
from relocation_shared.mongo import Doc


class AllocationIn(Input):
    source_id: str = ID_FIELD
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
    provincial_demonstration: StrictBool = Field(False, description="省级示范点项目")
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
    project_id: str = ID_FIELD


class DemonstrationIn(Input):
    provincial_demonstration: StrictBool


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
    def from_doc(cls, d: Doc) -> AllocationView:
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
    def from_docs(cls, d: Doc, allocations: list[Doc]) -> Project:
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
