"""Quiet hours: when they hold, the moment they end (in UTC), across midnight or not."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from notifications_service.inbox.domain import quiet_until
from notifications_service.inbox.models import QuietHours


@pytest.mark.parametrize(
    ("local", "start", "end", "until_local"),
    [
        ("23:30", "22:00", "07:00", "next 07:00"),
        ("03:00", "22:00", "07:00", "same 07:00"),
        ("07:00", "22:00", "07:00", None),
        ("12:00", "22:00", "07:00", None),
        ("12:30", "12:00", "14:00", "same 14:00"),
        ("15:00", "12:00", "14:00", None),
    ],
)
def test_quiet_hours(local: str, start: str, end: str, until_local: str | None) -> None:
    def beijing(day: int, hhmm: str) -> datetime:  # a Beijing wall-clock time, in UTC
        h, m = map(int, hhmm.split(":"))
        return datetime(2025, 10, day, h, m, tzinfo=UTC) - timedelta(hours=8)

    q = QuietHours(start=time.fromisoformat(start), end=time.fromisoformat(end))
    got = quiet_until(beijing(30, local), q)
    if until_local is None:
        assert got is None
    else:
        day, hhmm = until_local.split()
        assert got == beijing(31 if day == "next" else 30, hhmm)
