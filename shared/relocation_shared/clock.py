"""Business days are read in China Standard Time (UTC+8, no daylight saving): a job recorded at
07:00 in Zunyi on 2 March starts on 2 March, not on the 1 March of UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def business_day(at: datetime) -> date:
    """The calendar day in China of an instant (naive datetimes are taken as UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(CHINA_TZ).date()


def business_today() -> date:
    return business_day(datetime.now(UTC))
