"""Acknowledge or escalate: an urgent notification not acknowledged within its window goes to
the next level up that has someone to tell (grid worker → community cadres → county officers;
a level without staff, such as the towns, is passed over), once; from the top nobody is left."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from notifications_service.inbox.domain import Plan
from notifications_service.routing.domain import Directory, Recipient, recipient_of
from notifications_service.rules.domain import LEVEL_ROLE, role_label
from notifications_service.rules.models import Urgency
from relocation_shared.areas import LEVELS, Level
from relocation_shared.mongo import Doc

ESCALATION_PREFIX = "【升级提醒】"


class Escalation(StrEnum):
    NONE = "none"  # not urgent: never escalates
    PENDING = "pending"  # urgent, waiting for its acknowledgement
    ESCALATED = "escalated"  # the next level up was told
    EXHAUSTED = "exhausted"  # nobody above to tell
    ACKNOWLEDGED = "acknowledged"


async def escalation_targets(
    area_path: tuple[str, ...] | list[str], from_depth: int, directory: Directory
) -> tuple[Level | None, list[Recipient]]:
    """The next level up from `from_depth` that has someone to tell, and whom (its role's staff)."""
    for depth in range(min(from_depth, len(area_path)) - 1, 0, -1):
        level = LEVELS[depth]
        role = LEVEL_ROLE.get(level)
        if role is None:
            continue
        docs = await directory.at(area_path[depth], role)
        if docs:
            return level, list({d["subject"]: recipient_of(d) for d in docs}.values())
    return None, []


def escalation_plan(note: Doc, level: Level, recipients: list[Recipient]) -> Plan:
    """The notice the next level gets about a notification nobody acknowledged in time."""
    who = role_label(note.get("recipient_role") or "")
    name = note.get("recipient_name_masked") or ""
    minutes = note.get("ack_window_minutes") or 0
    window_minutes = note.get("ack_window_minutes")
    return Plan(
        event={
            "id": note["event_id"],
            "type": note["event_type"],
            "occurred_at": note["occurred_at"],
            "area_path": note["area_path"],
        },
        rule_id=note["rule_id"],
        rule_version=note["rule_version"],
        urgency=Urgency(note["urgency"]),
        window=timedelta(minutes=window_minutes) if window_minutes else None,
        recipients=recipients,
        title=f"{ESCALATION_PREFIX}{note['title']}",
        text=f"{ESCALATION_PREFIX}{who}{name}未在{minutes}分钟内确认:{note['text']}",
        escalated_from=note["_id"],
        escalation_depth=level.depth,
    )


def level_of_depth(depth: int) -> Level:
    """The level a notification's recipient answers for (building when out of range)."""
    return LEVELS[depth] if 0 <= depth < len(LEVELS) else Level.BUILDING
