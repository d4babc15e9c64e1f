"""The monitoring queries against the in-memory store: a view within the principal's areas, as of
a day and as a trend from the daily ledger, and the zero-employment list."""

from __future__ import annotations

from datetime import date, timedelta
from typing import cast

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from readmodel_service.fold.plan import FoldPlan
from readmodel_service.views.repository import ViewStore
from readmodel_service.views.service import ReadModelService
from relocation_shared.auth import Principal, Role
from relocation_shared.errors import Forbidden, InvalidInput, NotFound
from relocation_shared.events import CATALOG
from relocation_shared.events.employment import HouseholdZeroEmploymentRaised, WorkerEmployed
from relocation_shared.mongo import Doc
from tests.clock import NOW, frozen
from tests.context import ctx
from tests.fakes.readmodel import FakeViewStore
from tests.unit.readmodel.helpers import PATH, envelope

CITY = Principal(subject="t", roles=frozenset({Role.CITY_OFFICER}), areas=frozenset({"520300"}))
ELSEWHERE = Principal(subject="u", roles=frozenset({Role.CITY_OFFICER}), areas=frozenset({"520100"}))
NO_ROLE = Principal(subject="b", roles=frozenset(), areas=frozenset({"520300"}))  # every role may read


def employed(n: int, on: date) -> WorkerEmployed:
    return WorkerEmployed(
        spell_id=f"s{n}",
        resident_id=f"r{n}",
        household_id="h1",
        employment_type="local",
        organised_export=False,
        employer="社区工厂",
        monthly_wage=3000,
        started_on=on,
    )


class OverFake(ReadModelService):
    """The query service reading an in-memory store instead of the active generation's collections."""

    def __init__(self, fake: FakeViewStore) -> None:
        no_db = cast("AsyncDatabase[Doc]", None)
        super().__init__(db=no_db, targets={"employment_rate": {"default": 95.0}}, clock=frozen())
        self.fake = fake

    async def store(self) -> ViewStore:
        return cast(ViewStore, self.fake)


async def service_over(*payloads: object) -> ReadModelService:
    store = FakeViewStore()
    plan = FoldPlan()
    for p in payloads:
        e = envelope(p)
        plan.add(e, CATALOG.payload_of(e))
    await store.write_fold(plan=plan, seen=[], offsets={}, now=NOW, session=None)
    return OverFake(store)


async def test_a_view_lists_its_children_and_is_within_the_principal_s_areas() -> None:
    service = await service_over(employed(1, date(2025, 3, 1)))
    view = await service.view(ctx=ctx(CITY), area="520330")
    assert view.counters["employed"] == 1 and [c.area.code for c in view.children] == [PATH[3]]
    community = await service.view(ctx=ctx(CITY), area=PATH[4])
    assert [c.area.code for c in community.children] == [PATH[5]]  # the grid, kept in the community's document
    with pytest.raises(Forbidden):
        await service.view(ctx=ctx(ELSEWHERE), area="520330")
    with pytest.raises(NotFound):
        await service.view(ctx=ctx(CITY), area="520382")


async def test_as_of_and_trend_add_up_the_ledger_by_effective_day() -> None:
    service = await service_over(employed(1, date(2025, 3, 1)), employed(2, date(2025, 5, 1)))
    april = await service.as_of(ctx=ctx(CITY), area="520330", on=date(2025, 4, 30))
    assert april.counters == {"employed": 1, "employed:local": 1, "employed_local": 1, "wage_sum": 3000}
    assert april.as_of == date(2025, 4, 30)
    trend = await service.trend(ctx=ctx(CITY), area="520330", indicator="employed", since=None)
    assert [(p.date, p.value) for p in trend.points] == [(date(2025, 3, 1), 1.0), (date(2025, 5, 1), 2.0)]
    assert trend.target is None
    with pytest.raises(InvalidInput):
        await service.trend(ctx=ctx(CITY), area="520330", indicator="nothing", since=None)


async def test_the_zero_employment_list_counts_the_days_at_zero() -> None:
    since = NOW - timedelta(days=12)
    raised = HouseholdZeroEmploymentRaised(household_id="h9", labour_count=2, since=since, cause="employment_ended")
    service = await service_over(raised)
    [household] = await service.zero_households(ctx=ctx(CITY), area="520330", limit=10)
    assert household.household_id == "h9" and household.days_at_zero == 12
    assert household.community == PATH[4] and household.building == PATH[6]


async def test_a_principal_that_may_not_read_is_refused_before_anything_is_looked_up() -> None:
    service = await service_over(employed(1, date(2025, 3, 1)))
    with pytest.raises(Forbidden):
        await service.view(ctx=ctx(NO_ROLE), area="520330")
    with pytest.raises(Forbidden):  # before the unknown indicator
        await service.trend(ctx=ctx(NO_ROLE), area="520330", indicator="nothing", since=None)
    with pytest.raises(Forbidden):  # before the missing area
        await service.feed(ctx=ctx(NO_ROLE), area="520382", limit=10)
