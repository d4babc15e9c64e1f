"""Events of the notifications service: topic relocation.notifications.

A notification is one message for one cadre, made by one rule (at one version) from one event.
Recipients are named by their identity-provider subject (the token's `sub`), never by name or
phone number; the text itself is not on the bus (officials read it in the inbox)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from relocation_shared.events.catalog import CATALOG
from relocation_shared.events.envelope import EventPayload
from relocation_shared.topics import NOTIFICATIONS


@CATALOG.event("notifications.delivered", version=1, topic=NOTIFICATIONS)
class NotificationDelivered(EventPayload):
    """One channel (inbox, webhook, sms) delivered a notification."""

    notification_id: str
    source_event_id: str
    source_event_type: str
    rule_id: str
    rule_version: int = Field(ge=1)
    recipient_subject: str
    recipient_role: str
    channel: str
    urgency: str
    attempts: int = Field(ge=1, description="attempts it took, this one included")
    delivered_at: datetime


@CATALOG.event("notifications.dead_lettered", version=1, topic=NOTIFICATIONS)
class NotificationDeadLettered(EventPayload):
    """A channel gave up on a notification: it waits in the dead-letter list for an operator."""

    notification_id: str
    delivery_id: str
    source_event_type: str
    rule_id: str
    channel: str
    attempts: int = Field(ge=1)
    last_error: str
    dead_at: datetime


@CATALOG.event("notifications.escalated", version=1, topic=NOTIFICATIONS)
class NotificationEscalated(EventPayload):
    """An urgent notification was not acknowledged in its window: the next level up was told."""

    notification_id: str
    source_event_id: str
    source_event_type: str
    rule_id: str
    rule_version: int = Field(ge=1)
    from_level: str
    to_level: str | None = Field(description="None when no level above had anyone to tell")
    recipients: int = Field(ge=0)
    ack_due_at: datetime
    escalated_at: datetime


@CATALOG.event("notifications.acknowledged", version=1, topic=NOTIFICATIONS)
class NotificationAcknowledged(EventPayload):
    notification_id: str
    source_event_type: str
    rule_id: str
    recipient_subject: str
    recipient_role: str
    urgency: str
    acknowledged_at: datetime
    minutes_to_ack: int = Field(ge=0)
    within_window: bool
