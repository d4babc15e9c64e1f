"""Notification keys: one notification per event, recipient and rule (and escalation level)."""

from __future__ import annotations

from notifications_service.inbox.domain import notification_id, notification_key


def test_notification_keys_are_deterministic_per_event_recipient_and_rule() -> None:
    a = notification_id(notification_key("e1", "u1", "r1"))
    assert a == notification_id(notification_key("e1", "u1", "r1"))
    others = {
        notification_id(notification_key("e2", "u1", "r1")),
        notification_id(notification_key("e1", "u2", "r1")),
        notification_id(notification_key("e1", "u1", "r2")),
        notification_id(notification_key("e1", "u1", "r1", 4)),
    }
    assert a not in others and len(others) == 4
