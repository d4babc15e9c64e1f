"""A door-to-door service (上门服务) to a household and its one rule: no visit in the future
(by the Beijing business day). Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from governance_service.staff.domain import Actor
from relocation_shared.clock import business_day
from relocation_shared.errors import InvalidInput
from relocation_shared.events.community import VisitService


def check_visited_on(visited_on: date, now: datetime) -> None:
    if visited_on > business_day(now):
        raise InvalidInput("上门服务日期不能晚于今天", field="visited_on")


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
