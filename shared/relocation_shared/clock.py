"""The one clock of the platform, and China business days.

Nothing else reads the wall clock: services, relays and consumers are handed a `Clock` (a
callable returning an aware UTC instant) by their composition root, which passes
`system_clock`; tests pass a `FrozenClock` pinned to the instant they need, so a suite behaves
the same at 23:59 China time as at noon, in any host time zone.

Business days are read in China Standard Time (UTC+8, no daylight saving): a job recorded at
07:00 in Zunyi on 2 March starts on 2 March, not on the 1 March of UTC."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The wall clock, as an aware UTC instant: the only place the platform reads it."""
    return datetime.now(UTC)


class FrozenClock:
    """A clock that stands still until moved: for tests and for replaying a day."""

    def __init__(self, at: datetime) -> None:
        self.at = _aware(at)

    def __call__(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = _aware(at)

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        self.at += delta if delta is not None else timedelta(**parts)
        return self.at


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def business_day(at: datetime) -> date:
    """The calendar day in China of an instant (naive datetimes are taken as UTC)."""
    return _aware(at).astimezone(CHINA_TZ).date()


def business_today(clock: Clock) -> date:
    """Today in China, by the clock given."""
    return business_day(clock())


def china_midnight(day: date) -> datetime:
    """The UTC instant at which a China business day begins."""
    return datetime(day.year, day.month, day.day, tzinfo=CHINA_TZ).astimezone(UTC)
