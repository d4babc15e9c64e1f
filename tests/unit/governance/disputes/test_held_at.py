"""A mediation session's `held_at`: the minimum datetime (0001-01-01T00:00:00, read as Beijing
time) lies before year 1 in UTC, so anything converting it (the business day, BSON) overflowed
into a 500; it is refused, like any instant before 2015 or in the future, naming `held_at`."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from governance_service.disputes.models import SessionIn
from relocation_shared.errors import InvalidInput
from tests.unit.governance.disputes.test_disputes import CADRE, T0, dispute


@pytest.mark.parametrize("held_at", ["0001-01-01T00:00:00", "2014-06-01T09:00:00+08:00", "9999-12-31T23:59:59"])
def test_an_implausible_session_instant_is_refused_naming_held_at(held_at: str) -> None:
    d = dispute()
    data = SessionIn.model_validate({"held_at": held_at, "note": "调解"})
    assert data.held_at is not None
    with pytest.raises(InvalidInput) as err:
        d.add_session(held_at=data.held_at, note=data.note, by=CADRE, now=T0 + timedelta(days=1))
    assert err.value.field == "held_at" and "2015-01-01" in err.value.message
    assert d.sessions == []


def test_a_session_held_earlier_today_is_kept() -> None:
    d = dispute()
    held = datetime.fromisoformat("2025-06-02T09:00:00+08:00")
    d.add_session(held_at=held, note="调解", by=CADRE, now=T0 + timedelta(hours=1))
    assert d.sessions[0]["held_at"] == held
