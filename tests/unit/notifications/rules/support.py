"""Events and rules the rules tests build (shared by the test modules of this folder)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from notifications_service.rules.domain import compile_rule
from notifications_service.rules.models import AudienceIn, ConditionIn, RuleIn
from relocation_shared.errors import InvalidInput
from relocation_shared.events import CATALOG, Envelope, EventPayload
from relocation_shared.events.employment import HouseholdZeroEmploymentRaised

COMMUNITY_PATH = ["520000", "520300", "520330", "520330101000", "520330101001"]
BUILDING_PATH = [*COMMUNITY_PATH, "520330101001-G01", "520330101001-G01-B03"]
NAMES = {
    "520330101001": "易居社区",
    "520330101001-G01": "第一网格",
    "520330101001-G01-B03": "3栋",
}


def envelope(payload: EventPayload, path: list[str] = BUILDING_PATH, at: datetime | None = None) -> Envelope:
    return CATALOG.envelope(
        payload,
        producer="test",
        area_path=path,
        aggregate_id="agg",
        occurred_at=at or datetime(2025, 10, 31, 6, 30, tzinfo=UTC),
    )


def raised(labour: int = 2) -> HouseholdZeroEmploymentRaised:
    return HouseholdZeroEmploymentRaised(
        household_id="hh-1", labour_count=labour, since=datetime(2025, 10, 31, tzinfo=UTC), cause="employment_ended"
    )


def rule(event_type: str, *, conditions: list[dict[str, Any]] | None = None, template: str = "x", **kw: Any) -> RuleIn:
    return RuleIn(
        name="测试规则",
        event_type=event_type,
        conditions=[ConditionIn(**c) for c in conditions or []],
        audience=[AudienceIn(**a) for a in kw.pop("audience", [{"role": "community_cadre"}])],
        title="标题",
        template=template,
        **kw,
    )


def refused(data: RuleIn) -> InvalidInput:
    with pytest.raises(InvalidInput) as err:
        compile_rule(data)
    return err.value
