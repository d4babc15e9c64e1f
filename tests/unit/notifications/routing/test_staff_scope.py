"""The directory's staff list is answered for the reader's own areas only: an area outside them
is refused (403 naming `area`), as the other services' list endpoints do, rather than answered
with an empty list; an area code of no level's shape is bad input naming `area`."""

from __future__ import annotations

import pytest

from relocation_shared.auth import Principal, Role
from relocation_shared.errors import Forbidden, InvalidInput
from tests.clock import frozen
from tests.context import ctx
from tests.unit.notifications.support import COMMUNITY, GRID, OTHER_COMMUNITY, make_service

CADRE = Principal(subject="u-cadre-1", roles=frozenset({Role.COMMUNITY_CADRE}), areas=frozenset({COMMUNITY}))


async def test_the_staff_of_the_reader_s_community_are_listed() -> None:
    service, _, _ = await make_service(frozen())
    staff = await service.routing.staff(ctx=ctx(CADRE), area=COMMUNITY, limit=50)
    assert {s.subject for s in staff} >= {"u-cadre-1", "u-grid-1"}
    assert {s.subject for s in await service.routing.staff(ctx=ctx(CADRE), area=GRID, limit=50)} == {
        "u-grid-1",
        "u-building",
    }


@pytest.mark.parametrize("area", [OTHER_COMMUNITY, "520330", "520382"])
async def test_an_area_outside_the_reader_s_is_forbidden_naming_area(area: str) -> None:
    service, _, _ = await make_service(frozen())
    with pytest.raises(Forbidden) as err:
        await service.routing.staff(ctx=ctx(CADRE), area=area, limit=50)
    assert err.value.field == "area"


async def test_a_code_of_no_level_s_shape_is_invalid_naming_area() -> None:
    service, _, _ = await make_service(frozen())
    with pytest.raises(InvalidInput) as err:
        await service.routing.staff(ctx=ctx(CADRE), area="52", limit=50)
    assert err.value.field == "area"
