"""A door-to-door service's `visited_on` lies between 2015-01-01 and today (China business day)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from governance_service.visits.domain import check_visited_on
from relocation_shared.errors import InvalidInput
from tests.clock import NOW, TODAY


@pytest.mark.parametrize("day", [date(1, 1, 1), date(2014, 12, 31), TODAY + timedelta(days=1)])
def test_an_implausible_visit_day_is_refused(day: date) -> None:
    with pytest.raises(InvalidInput) as err:
        check_visited_on(day, NOW)
    assert err.value.field == "visited_on" and "2015-01-01" in err.value.message


def test_a_visit_today_or_in_2015_is_accepted() -> None:
    check_visited_on(TODAY, NOW)
    check_visited_on(date(2015, 1, 1), NOW)
