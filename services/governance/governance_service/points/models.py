"""Request and response bodies of the points supermarket."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from governance_service.points.domain import LedgerEntry
from relocation_shared.batch import Input
from relocation_shared.events.community import POINTS_CATEGORY_LABELS, PointsCategory
from relocation_shared.pii import FreeText


class AwardIn(Input):
    household_id: str = Field(min_length=1, max_length=64)
    category: PointsCategory = Field(description="civility 文明创建 / filial 孝老爱亲 / volunteer 志愿服务 …")
    points: int = Field(strict=True, ge=1, le=1000)
    reason: FreeText = Field(min_length=1, max_length=200)
    request_key: str | None = Field(
        None, min_length=1, max_length=64, description="幂等键:同一户同一键只记一次(重试安全)"
    )


class RedeemIn(Input):
    household_id: str = Field(min_length=1, max_length=64)
    goods: FreeText = Field(min_length=1, max_length=60, description="兑换物品")
    quantity: int = Field(1, strict=True, ge=1, le=100)
    points: int = Field(strict=True, ge=1, le=100_000, description="本次兑换共需积分")
    request_key: str | None = Field(
        None, min_length=1, max_length=64, description="幂等键:同一户同一键只兑换一次(重试安全)"
    )


class PointsEntry(BaseModel):
    id: str
    household_id: str
    kind: Literal["award", "redeem"]
    points: int = Field(description="正数为获得,负数为兑换")
    balance_after: int
    category: PointsCategory | None = None
    category_label: str | None = None
    reason: str | None = None
    goods: str | None = None
    quantity: int | None = None
    on: date
    by: str
    at: datetime

    @classmethod
    def of(cls, e: LedgerEntry) -> PointsEntry:
        return cls(
            id=e.id,
            household_id=e.household_id,
            kind=e.kind,
            points=e.points,
            balance_after=e.balance_after,
            category=e.category,
            category_label=POINTS_CATEGORY_LABELS[e.category] if e.category else None,
            reason=e.reason,
            goods=e.goods,
            quantity=e.quantity,
            on=e.on,
            by=e.by.name or e.by.subject,
            at=e.at,
        )


class PointsAccount(BaseModel):
    household_id: str
    balance: int
    awarded_total: int
    redeemed_total: int
    area_path: list[str]
    entries: list[PointsEntry]
