"""Registry dates that have happened are plausible: a household's registration (its move-in)
and a resident's move-out lie between 2015-01-01 and today, else 422 naming the field and
nothing stored or published."""

from __future__ import annotations

from datetime import date

import pytest

from governance_service.registry.models import MoveOut
from relocation_shared.errors import InvalidInput
from tests.clock import TODAY
from tests.context import ctx
from tests.unit.governance.registry.world import XISHUI, World, household_in


@pytest.mark.parametrize("day", [date(9999, 12, 31), date(1, 1, 1), date(2014, 12, 31)])
async def test_an_implausible_registration_day_is_refused(world: World, day: date) -> None:
    with pytest.raises(InvalidInput) as err:
        await world.svc.register_household(ctx=ctx(XISHUI), data=household_in(registered_on=day))
    assert err.value.field == "registered_on" and "2015-01-01" in err.value.message
    assert world.repo.data["households"] == {} and world.uow.published == []


async def test_a_batch_refuses_only_the_implausible_row(world: World) -> None:
    rows = [household_in(registered_on=d).model_dump(mode="json") for d in (date(2016, 5, 1), date(9999, 12, 31))]
    result = await world.svc.register_households_batch(ctx=ctx(XISHUI), rows=rows)
    assert [a.index for a in result.accepted] == [0]
    assert [(r.index, r.field) for r in result.rejected] == [(1, "registered_on")]


async def test_a_move_out_before_2015_is_refused(world: World) -> None:
    hid = await world.household(registered_on=TODAY)
    rid = await world.resident(hid)
    with pytest.raises(InvalidInput) as err:
        await world.svc.move_out(ctx=ctx(XISHUI), resident_id=rid, data=MoveOut(moved_out_on=date(1, 1, 1), reason="x"))
    assert err.value.field == "moved_out_on" and "2015-01-01" in err.value.message
    assert world.repo.data["residents"][rid]["status"] == "active"
