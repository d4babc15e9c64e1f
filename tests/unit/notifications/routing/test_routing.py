"""Routing through the services with in-memory stores and an injectable clock: each cadre told
once, history before installation ignored, preferences and quiet hours, the default rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from relocation_shared.clock import FrozenClock
from relocation_shared.events.governance import StaffUnassigned
from tests.unit.notifications.events import dispatched, overdue
from tests.unit.notifications.support import (
    GRID,
    PATH,
    T0,
    deliver,
    envelope,
    make_service,
    raised,
)


async def test_an_event_notifies_each_cadre_once_even_when_delivered_again() -> None:
    clock = FrozenClock(T0)
    service, repo, uow = await make_service(clock)
    env = envelope(raised(), at=T0 + timedelta(seconds=1))
    await deliver(service, uow, env, raised())
    await deliver(service, uow, env, raised())  # the same event id again (no processed_events here)
    notes = repo.notifications()
    assert sorted(n["recipient"] for n in notes) == ["u-cadre-1", "u-cadre-2", "u-grid-1"]
    assert {n["rule_id"] for n in notes} == {"default-zero-employment-raised"}
    assert {n["rule_version"] for n in notes} == {1}
    assert all(n["urgency"] == "urgent" and n["ack_due_at"] == T0 + timedelta(minutes=240) for n in notes)
    deliveries = sorted((d["recipient"], d["channel"], d["state"]) for d in repo.data["deliveries"].values())
    assert deliveries == sorted(
        (s, c, "delivered" if c == "inbox" else "pending")
        for s in ("u-cadre-1", "u-cadre-2", "u-grid-1")
        for c in ("inbox", "webhook")
    )
    # the inbox is delivered by the routing commit: in the inbox, and pushed once per cadre
    assert all(n["inbox_at"] == T0 for n in notes)
    assert sorted(p["recipient"] for p in repo.data["pushes"].values()) == ["u-cadre-1", "u-cadre-2", "u-grid-1"]


async def test_events_from_before_the_service_was_installed_notify_nobody() -> None:
    clock = FrozenClock(T0)
    service, repo, uow = await make_service(clock)
    old = envelope(raised(), at=T0 - timedelta(days=3))
    assert not service.routing.in_force.wants(old)
    await deliver(service, uow, old, raised())
    assert repo.notifications() == []
    unassigned = StaffUnassigned(staff_id="s-g1", subject="u-grid-1", role="grid_worker", area_code=GRID)
    await deliver(service, uow, envelope(unassigned, PATH[:6], T0 - timedelta(days=3)), unassigned)
    assert repo.data["directory"]["s-g1"]["active"] is False  # the directory still learns from history


async def test_preferences_choose_channels_and_quiet_hours_hold_back_only_normal_ones() -> None:
    clock = FrozenClock(datetime(2025, 10, 31, 23, 30, tzinfo=UTC) - timedelta(hours=8))  # 23:30 in Beijing
    service, repo, uow = await make_service(clock)
    repo.data["preferences"]["u-cadre-1"] = {
        "_id": "u-cadre-1",
        "channels": ["inbox", "sms"],
        "quiet_hours": {"start": "22:00", "end": "07:00"},
    }
    from relocation_shared.events.employment import HouseholdZeroEmploymentCleared

    cleared = HouseholdZeroEmploymentCleared(
        household_id="hh-1",
        employed_count=1,
        labour_count=1,
        zero_since=T0,
        cleared_at=clock.at,
        cause="worker_employed",
    )
    await deliver(service, uow, envelope(cleared, at=clock.at), cleared)
    await deliver(service, uow, envelope(raised(), at=clock.at), raised())
    mine = {
        (d["channel"], d["event_type"].rsplit("_", 1)[-1]): d
        for d in repo.data["deliveries"].values()
        if d["recipient"] == "u-cadre-1"
    }
    assert set(mine) == {("inbox", "cleared"), ("sms", "cleared"), ("inbox", "raised"), ("sms", "raised")}
    seven = datetime(2025, 11, 1, 7, 0, tzinfo=UTC) - timedelta(hours=8)
    assert mine["sms", "cleared"]["next_attempt_at"] == seven  # normal: after quiet hours
    assert mine["inbox", "cleared"]["delivered_at"] == clock.at  # the inbox is silent: at once
    assert mine["sms", "raised"]["next_attempt_at"] == clock.at  # urgent: at once


async def test_community_work_defaults_reach_the_assignee_and_the_next_level() -> None:
    clock = FrozenClock(T0)
    service, repo, uow = await make_service(clock)
    sent = dispatched(accept_due_at=T0 + timedelta(hours=4))
    await deliver(service, uow, envelope(sent, at=T0 + timedelta(seconds=1)), sent)
    assert [(n["recipient"], n["rule_id"]) for n in repo.notifications()] == [
        ("u-grid-1", "default-request-dispatched")
    ]

    told = {}
    for level in ("building", "grid", "community"):
        before = {n["_id"] for n in repo.notifications()}
        p = overdue(level, deadline_at=T0)
        await deliver(service, uow, envelope(p, at=T0 + timedelta(seconds=2)), p)
        told[level] = sorted(n["recipient"] for n in repo.notifications() if n["_id"] not in before)
    assert told == {
        "building": ["u-grid-1"],
        "grid": ["u-cadre-1", "u-cadre-2"],
        "community": ["u-county"],  # the towns have no staff: the county office
    }
