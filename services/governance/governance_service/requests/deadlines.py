"""The deadlines of the 四单 steps (hours by category, urgency and step) and the escalation chain
a missed deadline climbs (楼栋 → 网格 → 社区 → 镇街 → 县直部门). Pure rules, no I/O."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from relocation_shared.events.requests import ESCALATION_CHAIN, EscalationLevel, RequestCategory, RequestStep, Urgency

DeadlineTable = dict[str, dict[str, dict[str, float]]]


class DeadlinePolicy:
    """Hours allowed for each step, by category and urgency: `table[category][urgency][step]`,
    falling back to `table["default"][urgency][step]`, which must be complete."""

    def __init__(self, table: DeadlineTable) -> None:
        default = table.get("default")
        if default is None:
            raise ValueError("request deadlines need a 'default' category")
        for category, by_urgency in table.items():
            if category != "default":
                RequestCategory(category)
            for urgency, by_step in by_urgency.items():
                Urgency(urgency)
                for step, hours in by_step.items():
                    RequestStep(step)
                    if not (isinstance(hours, int | float) and hours > 0 and math.isfinite(hours)):
                        raise ValueError(f"deadline {category}/{urgency}/{step} must be a positive number of hours")
        for urgency in Urgency:
            for step in RequestStep:
                if default.get(urgency, {}).get(step) is None:
                    raise ValueError(f"request deadlines: default/{urgency}/{step} is missing")
        self.table = table

    def hours(self, *, category: RequestCategory, urgency: Urgency, step: RequestStep) -> float:
        specific = self.table.get(category, {}).get(urgency, {}).get(step)
        return specific if specific is not None else self.table["default"][urgency][step]

    def due(self, *, category: RequestCategory, urgency: Urgency, step: RequestStep, start: datetime) -> datetime:
        return start + timedelta(hours=self.hours(category=category, urgency=urgency, step=step))


def next_level(level: EscalationLevel) -> EscalationLevel | None:
    """One level up the chain building → grid → community → town → county department."""
    i = ESCALATION_CHAIN.index(level)
    return ESCALATION_CHAIN[i + 1] if i + 1 < len(ESCALATION_CHAIN) else None


def minutes_between(start: datetime, end: datetime) -> int:
    """Whole minutes from start to end (never negative): how long a step or the whole loop took."""
    return max(0, int((end - start).total_seconds() // 60))
