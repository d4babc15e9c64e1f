"""The monitoring API's response models: an area's view with its indicators (targets and gaps)
and its children, a trend, the zero-employment list, the feed."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel


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


class FeedItem(BaseModel):
    event_id: str
    type: str
    label: str
    area_path: list[str]
    at: str
    detail: dict[str, Any] = {}
