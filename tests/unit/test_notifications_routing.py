"""Recipients, keys, backoff and quiet hours without I/O; routing and escalation through the
service with an in-memory repository, unit of work, and an injectable clock."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from notifications_service.models import (
    AudienceIn,
    Channel,
    QuietHours,
    RuleIn,
    backoff_delay,
    compile_rule,
    default_rules,
    escalation_targets,
    notification_id,
    notification_key,
    quiet_until,
    resolve_recipients,
    retryable_status,
)
from notifications_service.service import ESCALATION_PREFIX, Escalator, NotificationsService
from relocation_shared.events import CATALOG, Envelope, EventPayload
from relocation_shared.events.community import RequestDispatched
from relocation_shared.events.employment import HouseholdZeroEmploymentRaised
from relocation_shared.events.governance import StaffAssigned, StaffUnassigned
from tests.fakes.notifications import FakeDirectory, FakeNotificationsRepository, staff
from tests.fakes.uow import FakeUnitOfWork

PROVINCE, CITY, COUNTY, TOWN = "520000", "520300", "520330", "520330101000"
COMMUNITY, OTHER_COMMUNITY = "520330101001", "520330101002"
GRID, BUILDING = f"{COMMUNITY}-G01", f"{COMMUNITY}-G01-B03"
PATH = [PROVINCE, CITY, COUNTY, TOWN, COMMUNITY, GRID, BUILDING]

CADRES = [
    staff("s-c1", "u-cadre-1", "community_cadre", PATH[:5], "王*"),
    staff("s-c2", "u-cadre-2", "community_cadre", PATH[:5]),
    staff("s-g1", "u-grid-1", "grid_worker", PATH[:6], "李*"),
    staff("s-g2", "u-grid-2", "grid_worker", [*PATH[:4], OTHER_COMMUNITY, f"{OTHER_COMMUNITY}-G01"]),
    staff("s-x", "u-cadre-elsewhere", "community_cadre", [*PATH[:4], OTHER_COMMUNITY]),
    staff("s-county", "u-county", "county_officer", PATH[:3]),
    staff("s-b", "u-building", "building_head", PATH),
]
T0 = datetime(2025, 10, 31, 6, 0, tzinfo=UTC)


def envelope(payload: EventPayload, path: list[str] = PATH, at: datetime = T0) -> Envelope:
    return CATALOG.envelope(payload, producer="test", area_path=path, aggregate_id="agg", occurred_at=at)


def raised() -> HouseholdZeroEmploymentRaised:
    return HouseholdZeroEmploymentRaised(household_id="hh-1", labour_count=1, since=T0, cause="employment_ended")


def zero_rule() -> Any:
    return compile_rule(
        dict(default_rules())["default-zero-employment-raised"], rule_id="default-zero-employment-raised"
    )


# --- recipients ----------------------------------------------------------------------------------


async def test_the_cadres_of_the_event_s_community_and_grid_are_told() -> None:
    recipients = await resolve_recipients(zero_rule(), envelope(raised()), raised(), FakeDirectory(CADRES))
    assert [(r.subject, r.role, r.depth) for r in recipients] == [
        ("u-cadre-1", "community_cadre", 4),
        ("u-cadre-2", "community_cadre", 4),
        ("u-grid-1", "grid_worker", 5),
    ]
    assert recipients[0].name_masked == "王*" and recipients[0].staff_id == "s-c1"


async def test_unassigned_cadres_and_levels_the_event_does_not_reach_are_left_out() -> None:
    docs = [dict(d) for d in CADRES]
    docs[1]["active"] = False
    recipients = await resolve_recipients(
        zero_rule(), envelope(raised(), PATH[:5]), raised(), FakeDirectory(docs)
    )  # a community-level event has no grid
    assert [r.subject for r in recipients] == ["u-cadre-1"]


async def test_a_subject_audience_finds_the_assignee_and_tells_a_person_only_once() -> None:
    data = RuleIn(
        name="派单",
        event_type="governance.request_dispatched",
        audience=[AudienceIn(subject_field="assignee_subject"), AudienceIn(role="grid_worker")],
        title="派单",
        template="{request_id}",
    )
    rule = compile_rule(data)
    p = RequestDispatched(
        request_id="rq",
        category="housing",
        grid_code=GRID,
        assignee_staff_id="s-g1",
        assignee_subject="u-grid-1",
        assignee_name_masked="李*",
        level="grid",
        redispatch=False,
        accept_due_at=T0,
    )
    recipients = await resolve_recipients(rule, envelope(p), p, FakeDirectory(CADRES))
    assert [(r.subject, r.depth) for r in recipients] == [("u-grid-1", 5)]

    unknown = p.model_copy(update={"assignee_subject": "u-new"})
    recipients = await resolve_recipients(rule, envelope(unknown), unknown, FakeDirectory(CADRES))
    assert [(r.subject, r.role) for r in recipients] == [("u-new", ""), ("u-grid-1", "grid_worker")]


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


def test_notification_keys_are_deterministic_per_event_recipient_and_rule() -> None:
    a = notification_id(notification_key("e1", "u1", "r1"))
    assert a == notification_id(notification_key("e1", "u1", "r1"))
    others = {
        notification_id(notification_key("e2", "u1", "r1")),
        notification_id(notification_key("e1", "u2", "r1")),
        notification_id(notification_key("e1", "u1", "r2")),
        notification_id(notification_key("e1", "u1", "r1", 4)),
    }
    assert a not in others and len(others) == 4


# --- retries and quiet hours ---------------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() -> None:
    rng = random.Random(7)
    for attempt, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0), (10, 60.0), (30, 60.0)]:
        delays = [backoff_delay(attempt, base=2.0, cap=60.0, rng=rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), attempt
        assert max(delays) - min(delays) > ceiling / 10  # jittered, not all the same
    assert backoff_delay(1, base=1, cap=10, rng=random.Random(1)) != backoff_delay(
        1, base=1, cap=10, rng=random.Random(2)
    )


def test_which_gateway_answers_are_worth_another_attempt() -> None:
    assert [s for s in (200, 400, 401, 404, 408, 409, 429, 500, 502, 503) if retryable_status(s)] == [
        408,
        429,
        500,
        502,
        503,
    ]


@pytest.mark.parametrize(
    ("local", "start", "end", "until_local"),
    [
        ("23:30", "22:00", "07:00", "next 07:00"),
        ("03:00", "22:00", "07:00", "same 07:00"),
        ("07:00", "22:00", "07:00", None),
        ("12:00", "22:00", "07:00", None),
        ("12:30", "12:00", "14:00", "same 14:00"),
        ("15:00", "12:00", "14:00", None),
    ],
)
def test_quiet_hours(local: str, start: str, end: str, until_local: str | None) -> None:
    def beijing(day: int, hhmm: str) -> datetime:  # a Beijing wall-clock time, in UTC
        h, m = map(int, hhmm.split(":"))
        return datetime(2025, 10, day, h, m, tzinfo=UTC) - timedelta(hours=8)

    q = QuietHours(start=time.fromisoformat(start), end=time.fromisoformat(end))
    got = quiet_until(beijing(30, local), q)
    if until_local is None:
        assert got is None
    else:
        day, hhmm = until_local.split()
        assert got == beijing(31 if day == "next" else 30, hhmm)


# --- routing and escalation through the service ------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def make_service(clock: Clock) -> tuple[NotificationsService, FakeNotificationsRepository, FakeUnitOfWork]:
    repo = FakeNotificationsRepository()
    uow = FakeUnitOfWork([repo])
    service = NotificationsService(
        uow=uow,  # type: ignore[arg-type]
        repo=repo,  # type: ignore[arg-type]
        available_channels=[Channel.INBOX, Channel.WEBHOOK, Channel.SMS],
        default_channels=[Channel.INBOX, Channel.WEBHOOK],
        clock=clock,
    )
    await service.seed_default_rules()
    for doc in CADRES:
        p = StaffAssigned(
            staff_id=doc["_id"],
            subject=doc["subject"],
            name_masked=doc["name_masked"],
            role=doc["role"],
            area_code=doc["area_code"],
            area_level=doc["area_level"],
        )
        await uow.run(lambda tx, p=p, path=doc["area_path"]: service.on_event(tx, envelope(p, path), p))
    return service, repo, uow


async def deliver(service: NotificationsService, uow: FakeUnitOfWork, env: Envelope, payload: EventPayload) -> None:
    await uow.run(lambda tx: service.on_event(tx, env, payload))


async def test_an_event_notifies_each_cadre_once_even_when_delivered_again() -> None:
    clock = Clock(T0)
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
    clock = Clock(T0)
    service, repo, uow = await make_service(clock)
    old = envelope(raised(), at=T0 - timedelta(days=3))
    assert not service.routing.wants(old)
    await deliver(service, uow, old, raised())
    assert repo.notifications() == []
    unassigned = StaffUnassigned(staff_id="s-g1", subject="u-grid-1", role="grid_worker", area_code=GRID)
    await deliver(service, uow, envelope(unassigned, PATH[:6], T0 - timedelta(days=3)), unassigned)
    assert repo.data["directory"]["s-g1"]["active"] is False  # the directory still learns from history


async def test_preferences_choose_channels_and_quiet_hours_hold_back_only_normal_ones() -> None:
    clock = Clock(datetime(2025, 10, 31, 23, 30, tzinfo=UTC) - timedelta(hours=8))  # 23:30 in Beijing
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
        cleared_at=clock.now,
        cause="worker_employed",
    )
    await deliver(service, uow, envelope(cleared, at=clock.now), cleared)
    await deliver(service, uow, envelope(raised(), at=clock.now), raised())
    mine = {
        (d["channel"], d["event_type"].rsplit("_", 1)[-1]): d
        for d in repo.data["deliveries"].values()
        if d["recipient"] == "u-cadre-1"
    }
    assert set(mine) == {("inbox", "cleared"), ("sms", "cleared"), ("inbox", "raised"), ("sms", "raised")}
    seven = datetime(2025, 11, 1, 7, 0, tzinfo=UTC) - timedelta(hours=8)
    assert mine["sms", "cleared"]["next_attempt_at"] == seven  # normal: after quiet hours
    assert mine["inbox", "cleared"]["delivered_at"] == clock.now  # the inbox is silent: at once
    assert mine["sms", "raised"]["next_attempt_at"] == clock.now  # urgent: at once


async def test_an_unacknowledged_urgent_notification_climbs_exactly_once_per_level() -> None:
    clock = Clock(T0)
    service, repo, uow = await make_service(clock)
    await deliver(service, uow, envelope(raised(), at=T0 + timedelta(seconds=1)), raised())
    grid_note = next(n for n in repo.notifications() if n["recipient"] == "u-grid-1")
    # the community cadres acknowledge theirs; the grid worker does not
    for n in repo.notifications():
        if n["recipient"] != "u-grid-1":
            repo.data["notifications"][n["_id"]]["acked_at"] = T0
            repo.data["notifications"][n["_id"]]["escalation"] = "acknowledged"
    escalator = Escalator(service=service, clock=clock)
    clock.now = T0 + timedelta(minutes=239)
    assert await escalator.scan_once() == 0
    clock.now = T0 + timedelta(minutes=241)
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
    clock.now += timedelta(minutes=241)
    assert await escalator.scan_once() == 2
    county = [n for n in repo.notifications() if n["recipient"] == "u-county"]
    assert len(county) == 1 and county[0]["depth"] == 2
    # and from the county nobody is above: the chain ends there
    clock.now += timedelta(minutes=241)
    assert await escalator.scan_once() == 1
    assert repo.data["notifications"][county[0]["_id"]]["escalation"] == "exhausted"


async def test_community_work_defaults_reach_the_assignee_and_the_next_level() -> None:
    from relocation_shared.events.community import RequestOverdue

    clock = Clock(T0)
    service, repo, uow = await make_service(clock)
    dispatched = RequestDispatched(
        request_id="rq-1",
        category="housing",
        grid_code=GRID,
        assignee_staff_id="s-g1",
        assignee_subject="u-grid-1",
        assignee_name_masked="李*",
        level="grid",
        redispatch=False,
        accept_due_at=T0 + timedelta(hours=4),
    )
    await deliver(service, uow, envelope(dispatched, at=T0 + timedelta(seconds=1)), dispatched)
    assert [(n["recipient"], n["rule_id"]) for n in repo.notifications()] == [
        ("u-grid-1", "default-request-dispatched")
    ]

    def overdue(level: str) -> RequestOverdue:
        return RequestOverdue(
            request_id="rq-1",
            category="housing",
            urgency="urgent",
            state="dispatched",
            step="accept",
            level=level,
            deadline_at=T0,
            first_overdue=True,
            overdue_count=1,
        )

    told = {}
    for level in ("building", "grid", "community"):
        before = {n["_id"] for n in repo.notifications()}
        p = overdue(level)
        await deliver(service, uow, envelope(p, at=T0 + timedelta(seconds=2)), p)
        told[level] = sorted(n["recipient"] for n in repo.notifications() if n["_id"] not in before)
    assert told == {
        "building": ["u-grid-1"],
        "grid": ["u-cadre-1", "u-cadre-2"],
        "community": ["u-county"],  # the towns have no staff: the county office
    }
