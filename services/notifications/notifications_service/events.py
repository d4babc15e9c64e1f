"""What the notifications service consumes (every event of the governance, employment and projects
topics: rules may name any of their types, and new rules apply without a restart; the staffing
and area events also keep the directory and the area names) and publishes (topic
relocation.notifications: delivered (by a gateway: webhook or SMS; the inbox is our own
database), dead-lettered, escalated, acknowledged)."""

from __future__ import annotations

from notifications_service.routing.service import RoutingService
from notifications_service.rules.domain import ROUTED_TOPICS
from relocation_shared.consumer import Handler
from relocation_shared.events import CATALOG
from relocation_shared.events.notifications import (
    NotificationAcknowledged,
    NotificationDeadLettered,
    NotificationDelivered,
    NotificationEscalated,
)
from relocation_shared.topics import NOTIFICATIONS

TOPIC = NOTIFICATIONS
CONSUMED_TOPICS = list(ROUTED_TOPICS)

PUBLISHES = (NotificationDelivered, NotificationDeadLettered, NotificationEscalated, NotificationAcknowledged)


def handlers(service: RoutingService) -> dict[str, Handler]:
    """Every event type of the consumed topics → routing (and the directory for staffing)."""
    return {t: service.on_event for t in CATALOG.types if CATALOG.topic_of(t) in CONSUMED_TOPICS}
