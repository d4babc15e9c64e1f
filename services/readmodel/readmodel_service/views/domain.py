"""Building the views officials read: an area's indicators as read on a business day (values,
targets by area code, level or default, gaps, met or not), its children side by side, the
counters as of a day and a trend summed up from the daily ledger, the zero-employment list and
the feed."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

from readmodel_service.indicators import INDICATORS, Counters, Indicator, dated, rounded
from readmodel_service.views.models import (
    AreaRef,
    ChildView,
    FeedItem,
    IndicatorValue,
    TrendPoint,
    View,
    ZeroHousehold,
)
from relocation_shared.areas import Level
from relocation_shared.errors import InvalidInput
from relocation_shared.mongo import Doc

Targets = dict[str, dict[str, float]]


def evaluate(counters: Counters, *, code: str, level: str, targets: Targets, on: date) -> list[IndicatorValue]:
    """The indicators of an area's counters as read on business day `on`."""
    out = []
    counters = dated(counters, on)
    for ind in INDICATORS.values():
        value = rounded(ind.compute(counters), ind.decimals)
        target = target_for(targets, ind.key, code=code, level=level)
        gap = met = None
        if target is not None and value is not None:
            gap = round(value - target, ind.decimals)
            met = value >= target if ind.better == "higher" else value <= target
        out.append(
            IndicatorValue(
                key=ind.key,
                label=ind.label,
                group=ind.group,
                unit=ind.unit,
                value=value,
                target=target,
                gap=gap,
                met=met,
                better=ind.better,
                headline=ind.headline,
            )
        )
    return out


def target_for(targets: Targets, key: str, *, code: str, level: str) -> float | None:
    by = targets.get(key)
    if not by:
        return None
    for k in (code, level, "default"):
        if k in by:
            return by[k]
    return None


def area_ref(doc: Doc) -> AreaRef:
    return AreaRef(
        code=doc["_id"], name=doc.get("name") or doc["_id"], level=doc.get("level", ""), path=doc.get("path", [])
    )


def view_from(doc: Doc, *, targets: Targets, on: date, children: list[Doc] | None = None) -> View:
    counters = dict(doc.get("counters", {}))
    return View(
        area=area_ref(doc),
        updated_at=doc["updated_at"].isoformat() if doc.get("updated_at") else None,
        indicators=evaluate(counters, code=doc["_id"], level=doc.get("level", ""), targets=targets, on=on),
        counters=counters,
        children=[child_view(c, targets, on) for c in children or []],
    )


def child_view(doc: Doc, targets: Targets, on: date) -> ChildView:
    counters = dict(doc.get("counters", {}))
    values = evaluate(counters, code=doc["_id"], level=doc.get("level", ""), targets=targets, on=on)
    return ChildView(
        area=area_ref(doc),
        values={v.key: v.value for v in values if v.headline},
        met={v.key: v.met for v in values if v.headline},
        targets={v.key: v.target for v in values if v.headline and v.target is not None},
        counters=counters,
    )


def feed_item(d: Doc) -> FeedItem:
    at = d["at"]
    if isinstance(at, datetime) and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return FeedItem(
        event_id=d["_id"],
        type=d["type"],
        label=d["label"],
        area_path=d["area_path"],
        at=at.isoformat() if isinstance(at, datetime) else str(at),
        detail=d.get("detail", {}),
    )


def zero_household(h: Doc, *, now: datetime) -> ZeroHousehold:
    since: datetime = h["zero_since"]
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    path = h.get("area_path", [])
    return ZeroHousehold(
        household_id=h["_id"],
        area_path=path,
        community=path[4] if len(path) > 4 else None,
        building=path[6] if len(path) > 6 else None,
        labour_count=h.get("labour", 0),
        since=since.isoformat(),
        days_at_zero=(now - since).days,
    )


UNLEDGERED_LEVELS = frozenset({Level.GRID.value, Level.BUILDING.value})


def require_ledgered(doc: Doc, area: str) -> None:
    """The daily ledger is kept down to the community: an as-of or trend question about a grid
    or a building is refused (422 naming `area`) rather than answered with zeros."""
    if doc.get("level") in UNLEDGERED_LEVELS or "-" in area:
        raise InvalidInput("网格、楼栋暂不提供历史数据,请查询所在社区", field="area", level=doc.get("level"))


def counters_of(days: list[Doc], area: str) -> dict[str, int]:
    """An area's counters summed up from its ledger days."""
    counters: dict[str, int] = defaultdict(int)
    for day in days:
        for k, v in day.get("areas", {}).get(area, {}).items():
            counters[k] += v
    return dict(counters)


def trend_points(days: list[Doc], area: str, ind: Indicator, *, since: date | None) -> list[TrendPoint]:
    """The indicator on every day the area's counters moved (from `since`, if given)."""
    counters: dict[str, int] = defaultdict(int)
    points: list[TrendPoint] = []
    for day in days:
        deltas = day.get("areas", {}).get(area)
        if not deltas:
            continue
        for k, v in deltas.items():
            counters[k] += v
        d = date.fromisoformat(day["day"])
        if since is None or d >= since:
            points.append(TrendPoint(date=d, value=rounded(ind.compute(dated(counters, d)), ind.decimals)))
    return points
