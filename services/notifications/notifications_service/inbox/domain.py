"""A cadre's notifications without I/O: one per (event, recipient, rule[, escalation level]) under
an id derived from that key (a redelivered event makes the same ids, so nobody is told twice);
the channels a cadre receives on (the inbox is always one); quiet hours, which hold back the
gateways' deliveries of normal notifications until they end."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from notifications_service.delivery.domain import Channel
from notifications_service.inbox.models import QuietHours
from notifications_service.routing.domain import Recipient
from notifications_service.rules.models import Urgency
from relocation_shared.mongo import Doc


@dataclass
class Plan:
    """What one rule (or an escalation) says about one event: whom to tell, and what."""

    event: Doc
    rule_id: str
    rule_version: int
    urgency: Urgency
    window: timedelta | None
    recipients: list[Recipient]
    title: str
    text: str
    escalated_from: str | None = None
    escalation_depth: int | None = None

    @property
    def urgent(self) -> bool:
        """Waits for an acknowledgement (and escalates without one)."""
        return self.urgency is Urgency.URGENT and self.window is not None


def notification_key(event_id: str, subject: str, rule_id: str, escalation_depth: int | None = None) -> str:
    key = f"{event_id}|{subject}|{rule_id}"
    return key if escalation_depth is None else f"{key}|escalated-to-{escalation_depth}"


def notification_id(key: str) -> str:
    """Deterministic: the same (event, recipient, rule) always makes the same id."""
    return "ntf-" + hashlib.sha256(key.encode()).hexdigest()[:32]


def aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ChannelChoice:
    """The channels this installation has (the inbox first, always) and a new cadre's defaults."""

    available: list[Channel]
    defaults: list[Channel]

    @classmethod
    def of(cls, available: list[Channel], defaults: list[Channel]) -> ChannelChoice:
        usable = [Channel.INBOX, *[c for c in available if c is not Channel.INBOX]]
        return cls(available=usable, defaults=[c for c in usable if c in defaults or c is Channel.INBOX])

    def channels_for(self, prefs: Doc | None) -> list[Channel]:
        wanted = [Channel(c) for c in prefs["channels"]] if prefs else self.defaults
        return [c for c in self.available if c in wanted or c is Channel.INBOX]


def quiet_until(now: datetime, quiet: QuietHours | None, *, utc_offset_hours: int = 8) -> datetime | None:
    """When quiet hours hold at `now`, the moment they end (UTC); otherwise None. A window whose
    end is before its start runs over midnight (22:00–07:00)."""
    if quiet is None or quiet.start == quiet.end:
        return None
    tz = timezone(timedelta(hours=utc_offset_hours))
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    start, end = quiet.start.replace(tzinfo=None), quiet.end.replace(tzinfo=None)
    if start < end:
        inside = start <= t < end
        end_day = local.date()
    else:
        inside = t >= start or t < end
        end_day = local.date() + timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=tz).astimezone(UTC)
