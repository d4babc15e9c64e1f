"""A door-to-door service (上门服务) to a household and its one rule: a plausible day, not in the
future (by the Beijing business day) nor before 2015. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from governance_service.staff.domain import Actor
from relocation_shared.clock import business_day
from relocation_shared.dates import plausible_day
from relocation_shared.events.community import VisitService


def check_visited_on(visited_on: date, now: datetime) -> None:
    plausible_day(visited_on, today=business_day(now), field="visited_on", what="上门服务日期")


@dataclass(frozen=True)
class Visit:
    id: str
    household_id: str
    service: VisitService
    description: str
    visited_on: date
    visitor: Actor
    area_path: list[str]
    recorded_at: datetime
