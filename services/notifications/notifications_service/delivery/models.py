"""Schemas of delivery status and the dead-letter list."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from notifications_service.delivery.domain import Channel, DeliveryState
from notifications_service.escalation.domain import Escalation
from notifications_service.inbox.models import InboxItem


class Attempt(BaseModel):
    attempt: int
    at: datetime
    outcome: str
    status: int | None = None
    error: str | None = None
    ms: float | None = None
    by: str | None = None


class Delivery(BaseModel):
    id: str
    channel: Channel
    channel_label: str
    state: DeliveryState
    state_label: str
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_error: str | None
    replays: int
    history: list[Attempt] = []


class NotificationStatus(BaseModel):
    notification: InboxItem
    recipient_subject: str
    recipient_role: str
    recipient_role_label: str
    escalation: Escalation
    deliveries: list[Delivery]


class DeadLetter(BaseModel):
    delivery: Delivery
    notification_id: str
    recipient_subject: str
    event_type: str
    title: str
    area_path: list[str]
