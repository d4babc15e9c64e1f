"""The escalation state of urgent notifications (in `notifications`): which are past their
acknowledgement window, and the compare-and-set that moves one on exactly once."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from notifications_service.escalation.domain import Escalation
from relocation_shared.mongo import Doc

Session = AsyncClientSession | None


class EscalationStore(Protocol):
    async def due_escalations(self, now: datetime, *, limit: int) -> list[Doc]: ...

    async def settle_escalation(self, nid: str, outcome: Escalation, at: datetime, session: Session) -> bool: ...


class MongoEscalationStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def due_escalations(self, now: datetime, *, limit: int) -> list[Doc]:
        cursor = self.db.notifications.find(
            {"escalation": Escalation.PENDING.value, "ack_due_at": {"$lte": now}, "acked_at": None}
        )
        return await cursor.sort("ack_due_at", ASCENDING).limit(limit).to_list(limit)

    async def settle_escalation(self, nid: str, outcome: Escalation, at: datetime, session: Session) -> bool:
        """Compare-and-set: of any number of scanners, exactly one moves a notification on."""
        result = await self.db.notifications.update_one(
            {"_id": nid, "escalation": Escalation.PENDING.value, "acked_at": None},
            {"$set": {"escalation": outcome.value, "escalated_at": at}},
            session=session,
        )
        return result.modified_count == 1
