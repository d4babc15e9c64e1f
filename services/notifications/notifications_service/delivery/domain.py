"""Deliveries as data: one per notification and channel, with a state (pending until its next
attempt, sending while a dispatcher holds its lease, delivered, or dead until an operator
replays it), and the message a channel sends."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Channel(StrEnum):
    INBOX = "inbox"  # 站内消息 (always on)
    WEBHOOK = "webhook"  # 政务协同平台消息网关
    SMS = "sms"  # 短信网关


CHANNEL_LABELS = {Channel.INBOX: "站内消息", Channel.WEBHOOK: "政务消息推送", Channel.SMS: "短信"}


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its next attempt (next_attempt_at)
    SENDING = "sending"  # claimed by a dispatcher until lease_until
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up: in the dead-letter list until an operator replays it


DELIVERY_STATE_LABELS = {
    DeliveryState.PENDING: "待发送",
    DeliveryState.SENDING: "发送中",
    DeliveryState.DELIVERED: "已送达",
    DeliveryState.DEAD: "发送失败(待人工重发)",
}


def delivery_id(nid: str, channel: Channel | str) -> str:
    return f"{nid}:{Channel(channel).value}"


@dataclass(frozen=True)
class OutgoingMessage:
    notification_id: str
    recipient: str  # the cadre's subject: gateways resolve it to an account or a phone number
    title: str
    text: str
    urgency: str
    event_type: str
    created_at: datetime
    ack_due_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {
            "notification_id": self.notification_id,
            "recipient": self.recipient,
            "title": self.title,
            "text": self.text,
            "urgency": self.urgency,
            "event_type": self.event_type,
            "created_at": self.created_at.isoformat(),
            "ack_due_at": self.ack_due_at.isoformat() if self.ack_due_at else None,
        }
