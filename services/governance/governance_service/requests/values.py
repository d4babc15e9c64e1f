"""Value objects of a request: the grid worker it is dispatched to (Assignee) and the 党组织评单
that closed it with the figures of that closure (Rating, taken back if the request reopens)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from governance_service.staff.domain import Actor
from relocation_shared.events.requests import EscalationLevel


@dataclass(frozen=True)
class Assignee:
    staff_id: str
    subject: str
    name: str

    def as_dict(self) -> dict[str, Any]:
        return {"staff_id": self.staff_id, "subject": self.subject, "name": self.name}


@dataclass(frozen=True)
class Rating:
    """党组织评单, and the figures of the closure it made (taken back if the request reopens)."""

    score: int
    comment: str | None
    party_org_id: str | None
    rated_by: Actor
    rated_at: datetime
    resolution_level: EscalationLevel
    minutes_to_close: int
    was_overdue: bool

    def as_dict(self) -> dict[str, Any]:
        """As kept in the history entry of the reopening that undid it."""
        return {
            "score": self.score,
            "comment": self.comment,
            "party_org_id": self.party_org_id,
            "rated_by": self.rated_by.as_dict(),
            "rated_at": self.rated_at,
            "resolution_level": self.resolution_level.value,
            "minutes_to_close": self.minutes_to_close,
            "was_overdue": self.was_overdue,
        }
