"""Escalation through the services: an unacknowledged urgent notification climbs exactly once
per level, up to where nobody is left."""

from __future__ import annotations

from datetime import timedelta

from notifications_service.escalation.domain import ESCALATION_PREFIX
from relocation_shared.clock import FrozenClock
from tests.unit.notifications.support import T0, deliver, envelope, make_service, raised


async def test_an_unacknowledged_urgent_notification_climbs_exactly_once_per_level() -> None:
    clock = FrozenClock(T0)
    service, repo, uow = await make_service(clock)
    await deliver(service, uow, envelope(raised(), at=T0 + timedelta(seconds=1)), raised())
    grid_note = next(n for n in repo.notifications() if n["recipient"] == "u-grid-1")
    # the community cadres acknowledge theirs; the grid worker does not
    for n in repo.notifications():
        if n["recipient"] != "u-grid-1":
            repo.data["notifications"][n["_id"]]["acked_at"] = T0
            repo.data["notifications"][n["_id"]]["escalation"] = "acknowledged"
    escalator = service.escalator(clock=clock)
    clock.set(T0 + timedelta(minutes=239))
    assert await escalator.scan_once() == 0
    clock.set(T0 + timedelta(minutes=241))
    assert await escalator.scan_once() == 1
    assert await escalator.scan_once() == 0  # exactly once
    assert repo.data["notifications"][grid_note["_id"]]["escalation"] == "escalated"
    notices = [n for n in repo.notifications() if n["escalated_from"] == grid_note["_id"]]
    assert sorted(n["recipient"] for n in notices) == ["u-cadre-1", "u-cadre-2"]
    assert all(n["text"].startswith(ESCALATION_PREFIX + "网格员李*未在240分钟内确认:零就业家庭预警") for n in notices)
    assert all(n["rule_version"] == 1 and n["depth"] == 4 for n in notices)
    assert [e.type for e in uow.published].count("notifications.escalated") == 1

    # nobody acknowledges the notices either: they climb to the county, once per cadre notice,
    # but the county officer gets one notice (one key per event, recipient, rule and level)
    clock.advance(timedelta(minutes=241))
    assert await escalator.scan_once() == 2
    county = [n for n in repo.notifications() if n["recipient"] == "u-county"]
    assert len(county) == 1 and county[0]["depth"] == 2
    # and from the county nobody is above: the chain ends there
    clock.advance(timedelta(minutes=241))
    assert await escalator.scan_once() == 1
    assert repo.data["notifications"][county[0]["_id"]]["escalation"] == "exhausted"
