"""Events the notifications unit tests build, with the values most of them want: a keyword
argument changes a field (`dispatched(request_id="rq-9")`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from relocation_shared.events.projects import DividendPaid
from relocation_shared.events.requests import RequestDispatched, RequestOverdue


def dispatched(**kw: Any) -> RequestDispatched:
    """A request dispatched to grid worker 李* (s-g1, u-grid-1) of the first grid."""
    data: dict[str, Any] = {
        "request_id": "rq-1",
        "category": "housing",
        "grid_code": "520330101001-G01",
        "assignee_staff_id": "s-g1",
        "assignee_subject": "u-grid-1",
        "assignee_name_masked": "李*",
        "level": "grid",
        "redispatch": False,
        "accept_due_at": datetime(2025, 10, 31, 6, 0, tzinfo=UTC),
    }
    return RequestDispatched(**{**data, **kw})


def overdue(level: str, **kw: Any) -> RequestOverdue:
    """A first overdue acceptance of an urgent housing request, told to `level`."""
    data: dict[str, Any] = {
        "request_id": "rq-1",
        "category": "housing",
        "urgency": "urgent",
        "state": "dispatched",
        "step": "accept",
        "level": level,
        "deadline_at": datetime(2025, 10, 31, 2, 0, tzinfo=UTC),
        "first_overdue": True,
        "overdue_count": 1,
    }
    return RequestOverdue(**{**data, **kw})


def dividend(**kw: Any) -> DividendPaid:
    """A dividend of 123,456.78 yuan paid to the collective of community 520330101001."""
    data: dict[str, Any] = {
        "entry_id": "e1",
        "project_id": "p1",
        "kind": "industry",
        "chain": "agriculture",
        "source_kinds": ["central_earmarked"],
        "recipient": "collective",
        "community_code": "520330101001",
        "amount_fen": 12_345_678,
        "year": 2025,
        "paid_on": date(2025, 10, 1),
        "households_benefiting_delta": 0,
    }
    return DividendPaid(**{**data, **kw})
