"""The machinery every indicator group uses: a group declares how event types move counters
(`@GROUP.fold(Model)`) and how each figure officials read is computed from the counters
(`GROUP.indicator(...)`).

Counters are integers kept per area at every level (building → province): a change in a
community moves its town, county, city and province at once. Derived figures are computed when
read, with the rounding officials use (half up: 97.37 %, 2.24)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, Protocol

from relocation_shared.clock import business_day
from relocation_shared.events import EventPayload

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

    def percent(self, key: str, label: str, num: str, den: str, *, headline: bool = False) -> None:
        """A rate in % with two decimals (97.37 %): `num` over `den`, absent while `den` is 0."""
        self.indicator(key, label, "%", ratio(num, den, percent=True), decimals=2, headline=headline)


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
