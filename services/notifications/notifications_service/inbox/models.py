"""Schemas of a cadre's inbox and receiving preferences (channels, quiet hours)."""

from __future__ import annotations

from datetime import datetime, time

from pydantic import BaseModel, Field

from notifications_service.delivery.domain import Channel
from notifications_service.rules.models import Urgency
from relocation_shared.batch import Input


class InboxItem(BaseModel):
    id: str
    title: str
    text: str
    urgency: Urgency
    urgency_label: str
    event_type: str
    event_id: str
    rule_id: str
    rule_version: int
    area_path: list[str]
    created_at: datetime
    delivered_at: datetime | None
    read_at: datetime | None
    acked_at: datetime | None
    ack_due_at: datetime | None
    escalated_from: str | None


class QuietHours(Input):
    start: time = Field(description="免打扰开始时间(北京时间),如 22:00")
    end: time = Field(description="免打扰结束时间,如 07:00")


class PreferencesIn(Input):
    channels: list[Channel] = Field(min_length=1, max_length=3, description="inbox 站内消息 / webhook / sms")
    quiet_hours: QuietHours | None = None


class Preferences(BaseModel):
    subject: str
    channels: list[Channel]
    quiet_hours: QuietHours | None
    available_channels: list[Channel]
    default: bool = Field(description="no preferences saved yet: the defaults apply")
