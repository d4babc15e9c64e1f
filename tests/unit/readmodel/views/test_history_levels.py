"""As-of and trend questions about a grid or a building: the daily ledger is kept down to the
community, so they are refused with a 422 naming `area` instead of answered with zeros while
the live view has figures."""

from __future__ import annotations

from datetime import date

import pytest

from relocation_shared.errors import InvalidInput
from tests.context import ctx
from tests.unit.readmodel.helpers import PATH
from tests.unit.readmodel.views.test_queries import CITY, employed, service_over

MESSAGE = "网格、楼栋暂不提供历史数据,请查询所在社区"


@pytest.mark.parametrize("area", [PATH[5], PATH[6]], ids=["grid", "building"])
async def test_as_of_and_trend_of_a_grid_or_building_are_refused_naming_area(area: str) -> None:
    service = await service_over(employed(1, date(2025, 3, 1)))
    live = await service.view(ctx=ctx(CITY), area=area)
    assert live.counters["employed"] == 1  # the live view has the figure
    with pytest.raises(InvalidInput) as as_of:
        await service.as_of(ctx=ctx(CITY), area=area, on=date(2025, 4, 30))
    with pytest.raises(InvalidInput) as trend:
        await service.trend(ctx=ctx(CITY), area=area, indicator="employed", since=None)
    for err in (as_of.value, trend.value):
        assert err.field == "area" and err.message == MESSAGE


async def test_the_community_above_still_answers_from_the_ledger() -> None:
    service = await service_over(employed(1, date(2025, 3, 1)))
    community = await service.as_of(ctx=ctx(CITY), area=PATH[4], on=date(2025, 4, 30))
    assert community.counters["employed"] == 1
    trend = await service.trend(ctx=ctx(CITY), area=PATH[4], indicator="employed", since=None)
    assert [(p.date, p.value) for p in trend.points] == [(date(2025, 3, 1), 1.0)]
