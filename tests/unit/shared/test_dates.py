"""The plausible dates of relocation records (`relocation_shared.dates`): from 2015-01-01 to the
China business day of the clock, both included; instants likewise, and a minimum datetime read
as Beijing time refused rather than overflowing."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from relocation_shared.clock import CHINA_TZ
from relocation_shared.dates import EARLIEST, plausible_day, plausible_instant
from relocation_shared.errors import InvalidInput
from tests.clock import NOW, TODAY


@pytest.mark.parametrize("day", [EARLIEST, TODAY, date(2020, 2, 29)])
def test_days_from_2015_to_today_are_plausible(day: date) -> None:
    assert plausible_day(day, today=TODAY, field="visited_on") == day


@pytest.mark.parametrize("day", [date(1, 1, 1), date(2014, 12, 31), TODAY + timedelta(days=1), date(9999, 12, 31)])
def test_days_before_2015_or_after_today_are_refused_naming_the_field(day: date) -> None:
    with pytest.raises(InvalidInput) as err:
        plausible_day(day, today=TODAY, field="registered_on", what="登记日期")
    assert err.value.field == "registered_on"
    assert err.value.message == f"登记日期应在 2015-01-01 至今天({TODAY.isoformat()})之间"


@pytest.mark.parametrize(
    "at",
    [
        datetime(1, 1, 1, tzinfo=CHINA_TZ),  # its UTC instant lies before year 1
        datetime(2014, 12, 31, 23, 59, tzinfo=CHINA_TZ),
        NOW + timedelta(seconds=1),
        datetime(9999, 12, 31, 23, 59, tzinfo=CHINA_TZ),
    ],
)
def test_implausible_instants_are_refused_not_overflowing(at: datetime) -> None:
    with pytest.raises(InvalidInput) as err:
        plausible_instant(at, now=NOW, field="held_at")
    assert err.value.field == "held_at" and "2015-01-01" in err.value.message


def test_instants_from_2015_china_time_to_now_are_plausible() -> None:
    first = datetime(2015, 1, 1, tzinfo=CHINA_TZ)
    assert plausible_instant(first, now=NOW, field="held_at") == first
    assert plausible_instant(NOW, now=NOW, field="held_at") == NOW
