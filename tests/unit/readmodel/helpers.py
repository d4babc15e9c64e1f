"""What the read model's unit tests share: an area path from the province down to a building,
events on it folded into a plan, and indicator values as officials read them."""

from __future__ import annotations

from datetime import UTC, datetime

from readmodel_service.config import DEFAULT_TARGETS
from readmodel_service.fold.plan import FoldPlan
from readmodel_service.indicators import INDICATORS, rounded
from readmodel_service.views.domain import evaluate
from relocation_shared.events import CATALOG, Envelope, EventPayload
from tests.clock import TODAY

PATH = ("520000", "520300", "520330", "520330001000", "520330001001", "520330001001-G01", "520330001001-G01-B01")
COUNTY_PATH = PATH[:3]
AT = datetime(2025, 6, 30, 8, tzinfo=UTC)


def envelope(payload: EventPayload, at: datetime = AT) -> Envelope:
    return CATALOG.envelope(payload, producer="t", area_path=PATH, aggregate_id="h1", occurred_at=at)


def fold(*payloads: EventPayload, path: tuple[str, ...] = PATH) -> FoldPlan:
    plan = FoldPlan()
    for p in payloads:
        env = CATALOG.envelope(p, producer="t", area_path=path, aggregate_id="a1", occurred_at=AT)
        plan.add(env, CATALOG.payload_of(env))
    return plan


def values(counters: dict[str, int], level: str = "county") -> dict[str, float | None]:
    return {v.key: v.value for v in evaluate(counters, code="520330", level=level, targets=DEFAULT_TARGETS, on=TODAY)}


def value(key: str, counters: dict[str, int]) -> float | None:
    ind = INDICATORS[key]
    return rounded(ind.compute(counters), ind.decimals)
