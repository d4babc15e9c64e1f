"""Request and response bodies of funding sources and their yearly budgets."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from projects_service.money import Money, NonNegativeFen, Year
from relocation_shared.areas import path_of_code
from relocation_shared.batch import Input
from relocation_shared.events.projects import SOURCE_KIND_LABELS, SourceKind
from relocation_shared.mongo import Doc


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
        path_of_code(v)
        return v


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
    def from_docs(cls, d: Doc, budgets: list[Doc]) -> FundingSource:
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
