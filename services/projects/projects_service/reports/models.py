"""Response bodies of the reports: a community's collective economy and an area's summary."""

from __future__ import annotations

from pydantic import BaseModel, Field

from projects_service.money import Money
from relocation_shared.events.projects import SourceKind


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
