"""Request and response bodies of the ledger: disbursements, dividends, collective income and
assets, reversals, and the entries themselves. Amounts are in fen."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from projects_service.money import ID_FIELD, Money, PositiveFen, Year
from relocation_shared.batch import Input
from relocation_shared.events.projects import (
    PAYMENT_KIND_LABELS,
    RECIPIENT_LABELS,
    PaymentKind,
    Recipient,
    SourceKind,
)
from relocation_shared.mongo import Doc


class DisbursementIn(Input):
    source_id: str = ID_FIELD
    year: Year
    amount_fen: PositiveFen
    disbursed_on: date
    memo: str | None = Field(None, max_length=200)


class DisbursementRow(DisbursementIn):
    project_id: str = ID_FIELD


class DividendIn(Input):
    recipient: Recipient = Field(description="collective 社区集体 / household 搬迁户")
    community_code: str | None = Field(None, pattern=r"^[0-9]{12}$", description="社区集体分红时必填")
    household_id: str | None = Field(None, min_length=1, max_length=64, description="分红到户时必填")
    amount_fen: PositiveFen
    year: Year
    paid_on: date
    memo: str | None = Field(None, max_length=200)


class DividendRow(DividendIn):
    project_id: str = ID_FIELD


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
    def from_doc(cls, d: Doc) -> LedgerEntry:
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
