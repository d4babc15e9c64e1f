"""Plausible dates of relocation records, the one rule every service applies to a day or an
instant that has happened: not before 2015-01-01 (the relocation programme began in 2015;
nothing it records is older) and not after today, the China business day of the service's
injected clock. A day far in the past or the future (0001-01-01, 9999-12-31) would otherwise be
stored and skew the as-of views and trends, or overflow when an instant is read in UTC.

Dates that mean the future (deadlines, the end of a contract) are not checked here."""

from __future__ import annotations

from datetime import date, datetime

from relocation_shared.clock import business_day, china_midnight
from relocation_shared.errors import InvalidInput

EARLIEST = date(2015, 1, 1)
EARLIEST_INSTANT = china_midnight(EARLIEST)


def _refuse(what: str, field: str, today: date) -> InvalidInput:
    return InvalidInput(
        f"{what}应在 {EARLIEST.isoformat()} 至今天({today.isoformat()})之间",
        field=field,
        earliest=EARLIEST.isoformat(),
        latest=today.isoformat(),
    )


def plausible_day(day: date, *, today: date, field: str, what: str = "日期") -> date:
    """`day` when it lies between 2015-01-01 and `today` (both included), else InvalidInput
    naming the field ("日期应在 2015-01-01 至今天(…)之间")."""
    if not EARLIEST <= day <= today:
        raise _refuse(what, field, today)
    return day


def plausible_instant(at: datetime, *, now: datetime, field: str, what: str = "时间") -> datetime:
    """`at` (an aware instant) when it lies between 2015-01-01 00:00 China time and `now`, else
    InvalidInput naming the field. Compared without converting `at` to UTC first, so that a
    minimum datetime (0001-01-01T00:00+08:00, whose UTC instant precedes year 1) is refused, not
    an OverflowError."""
    if not EARLIEST_INSTANT <= at <= now:
        raise _refuse(what, field, business_day(now))
    return at
