"""The instant the unit tests live at, pinned: a Monday morning in China (10:30 CST), so that a
test reads the same business day whatever the wall clock or the host's time zone says.
Tests that need another instant build a `FrozenClock` of their own."""

from __future__ import annotations

from datetime import UTC, datetime

from relocation_shared.clock import FrozenClock, business_day

NOW = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)
TODAY = business_day(NOW)


def frozen(at: datetime = NOW) -> FrozenClock:
    return FrozenClock(at)
