"""Employment spells and trainings happened between 2015-01-01 and today: a start, an end or a
completion on 0001-01-01 (or before 2015) is refused naming the field, and nothing changes."""

from __future__ import annotations

from datetime import date

import pytest

from employment_service.models import EndEmploymentIn
from employment_service.service import EmploymentService
from relocation_shared.errors import InvalidInput
from tests.context import ctx
from tests.fakes.employment import FakeEmploymentRepository
from tests.fakes.uow import FakeUnitOfWork
from tests.unit.employment.test_employment_service import XISHUI, World, employment, training

ANCIENT = (date(1, 1, 1), date(2014, 12, 31))


@pytest.fixture
async def one_worker() -> World:
    """Household h-1 (习水) with one labour-capable resident r-1, not yet employed."""
    repo = FakeEmploymentRepository()
    uow = FakeUnitOfWork([repo], producer="employment")
    world = World(repo=repo, uow=uow, svc=EmploymentService(uow=uow, repo=repo, clock=uow.clock, batch_max=10))
    await world.household()
    await world.resident("r-1")
    world.uow.clear()
    return world


@pytest.mark.parametrize("day", ANCIENT)
async def test_a_spell_started_before_2015_is_refused(one_worker: World, day: date) -> None:
    before = one_worker.repo.snapshot()
    with pytest.raises(InvalidInput) as err:
        await one_worker.svc.employ(ctx=ctx(XISHUI), data=employment("r-1", started_on=day))
    assert err.value.field == "started_on" and "2015-01-01" in err.value.message
    assert one_worker.repo.data == before and one_worker.uow.published == []


@pytest.mark.parametrize("day", ANCIENT)
async def test_a_training_completed_before_2015_is_refused(one_worker: World, day: date) -> None:
    before = one_worker.repo.snapshot()
    with pytest.raises(InvalidInput) as err:
        await one_worker.svc.record_training(ctx=ctx(XISHUI), data=training("r-1", completed_on=day))
    assert err.value.field == "completed_on" and "2015-01-01" in err.value.message
    assert one_worker.repo.data == before and one_worker.uow.published == []


async def test_a_spell_started_in_2015_is_kept_and_may_not_end_in_year_1(one_worker: World) -> None:
    spell = await one_worker.svc.employ(ctx=ctx(XISHUI), data=employment("r-1", started_on=date(2015, 1, 1)))
    assert spell.started_on == date(2015, 1, 1)
    with pytest.raises(InvalidInput) as err:  # before its start: refused on that rule first
        await one_worker.svc.end_employment(
            ctx=ctx(XISHUI), spell_id=spell.id, data=EndEmploymentIn(ended_on=date(1, 1, 1), reason="合同到期")
        )
    assert err.value.field == "ended_on"
