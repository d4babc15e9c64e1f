"""Where an unacknowledged notification climbs: the next level up that has someone."""

from __future__ import annotations

from notifications_service.escalation.domain import escalation_targets
from tests.fakes.notifications import FakeDirectory
from tests.unit.notifications.support import (
    CADRES,
    PATH,
)


async def test_escalation_climbs_to_the_next_level_that_has_someone() -> None:
    d = FakeDirectory(CADRES)
    level, rs = await escalation_targets(PATH, 5, d)  # a grid worker did not acknowledge
    assert level is not None and level.value == "community"
    assert sorted(r.subject for r in rs) == ["u-cadre-1", "u-cadre-2"]
    level, rs = await escalation_targets(PATH, 4, d)  # the towns have no staff: on to the county
    assert level is not None and level.value == "county" and [r.subject for r in rs] == ["u-county"]
    level, rs = await escalation_targets(PATH, 6, d)
    assert level is not None and level.value == "grid" and [r.subject for r in rs] == ["u-grid-1"]
    level, rs = await escalation_targets(PATH, 2, d)
    assert level is None and rs == []
