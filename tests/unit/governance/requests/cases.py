"""Requests as the tests of this folder start them: a building's area path, the deadline policy
and a freshly submitted request (pure domain objects, no store)."""

from __future__ import annotations

from datetime import UTC, datetime

from governance_service.config import DEFAULT_REQUEST_DEADLINE_HOURS
from governance_service.requests.deadlines import DeadlinePolicy
from governance_service.requests.domain import RequestCase
from governance_service.staff.domain import Actor
from relocation_shared.events.requests import RequestCategory, RequestSource, Urgency

T0 = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
PATH = ["520000", "520300", "520330", "520330001000", "520330001001", "520330001001-G01", "520330001001-G01-B01"]
POLICY = DeadlinePolicy(DEFAULT_REQUEST_DEADLINE_HOURS)
CADRE = Actor(subject="cadre-1", name="李社区", role="community_cadre")


def submitted(
    *,
    request_id: str = "req-1",
    category: RequestCategory = RequestCategory.HOUSING,
    urgency: Urgency = Urgency.GENERAL,
    source: RequestSource = RequestSource.RESIDENT,
    description: str = "楼道灯坏了",
    by: Actor = CADRE,
) -> RequestCase:
    """A request submitted at T0 in the building of PATH."""
    return RequestCase.submit(
        request_id=request_id,
        category=category,
        urgency=urgency,
        source=source,
        description=description,
        household_id=None,
        building_path=PATH,
        by=by,
        now=T0,
        policy=POLICY,
    )
