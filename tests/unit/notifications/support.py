"""The places, cadres and events of the notifications unit tests, and the services wired over
the in-memory stores with an injectable clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from notifications_service.delivery.domain import Channel
from notifications_service.rules.defaults import default_rules
from notifications_service.rules.domain import compile_rule
from notifications_service.wiring import Services, build_services
from relocation_shared.clock import FrozenClock
from relocation_shared.events import CATALOG, Envelope, EventPayload
from relocation_shared.events.employment import HouseholdZeroEmploymentRaised
from relocation_shared.events.governance import StaffAssigned
from tests.fakes.notifications import FakeState, fake_stores, staff
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


async def make_service(clock: FrozenClock) -> tuple[Services, FakeState, FakeUnitOfWork]:
    stores, repo = fake_stores()
    uow = FakeUnitOfWork([repo])
    service = build_services(
        uow=uow,
        stores=stores,
        available_channels=[Channel.INBOX, Channel.WEBHOOK, Channel.SMS],
        default_channels=[Channel.INBOX, Channel.WEBHOOK],
        clock=clock,
    )
    await service.rules.seed_default_rules()
    for doc in CADRES:
        p = StaffAssigned(
            staff_id=doc["_id"],
            subject=doc["subject"],
            name_masked=doc["name_masked"],
            role=doc["role"],
            area_code=doc["area_code"],
            area_level=doc["area_level"],
        )
        await deliver(service, uow, envelope(p, doc["area_path"]), p)
    return service, repo, uow


async def deliver(service: Services, uow: FakeUnitOfWork, env: Envelope, payload: EventPayload) -> None:
    await uow.run(lambda tx: service.routing.on_event(tx, env, payload))
