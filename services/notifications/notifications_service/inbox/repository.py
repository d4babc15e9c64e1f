"""Where a cadre's notifications are kept: `notifications` (one per event, recipient and rule:
the inbox), `pushes` (what the open streams are fed from; one per notification) and
`preferences` (per cadre)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from notifications_service.delivery.domain import Channel
from notifications_service.escalation.domain import Escalation
from notifications_service.inbox.domain import Plan
from notifications_service.inbox.models import InboxItem
from notifications_service.routing.domain import Recipient
from notifications_service.rules.models import URGENCY_LABELS, Urgency
from relocation_shared.mongo import Doc

Session = AsyncClientSession | None


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.notifications.create_index([("recipient", ASCENDING), ("created_at", DESCENDING)], name="inbox")
    await db.notifications.create_index([("escalation", ASCENDING), ("ack_due_at", ASCENDING)], name="escalation")
    await db.notifications.create_index([("event_id", ASCENDING)], name="event")
    await db.pushes.create_index([("at", ASCENDING)], name="at")


def to_doc(nid: str, key: str, plan: Plan, r: Recipient, channels: list[Channel], now: datetime) -> Doc:
    """A new notification, not yet in the inbox (`inbox_at` is set by its inbox delivery)."""
    urgent = plan.urgent
    return {
        "_id": nid,
        "key": key,
        "event_id": plan.event["id"],
        "event_type": plan.event["type"],
        "occurred_at": plan.event["occurred_at"],
        "area_path": plan.event["area_path"],
        "rule_id": plan.rule_id,
        "rule_version": plan.rule_version,
        "recipient": r.subject,
        "recipient_role": r.role,
        "recipient_name_masked": r.name_masked,
        "recipient_staff_id": r.staff_id,
        "recipient_area_code": r.area_code,
        "depth": r.depth,
        "title": plan.title,
        "text": plan.text,
        "urgency": plan.urgency.value,
        "ack_window_minutes": int(plan.window.total_seconds() // 60) if plan.window else None,
        "ack_due_at": now + plan.window if urgent and plan.window else None,
        "escalation": Escalation.PENDING.value if urgent else Escalation.NONE.value,
        "escalated_from": plan.escalated_from,
        "channels": [c.value for c in channels],
        "created_at": now,
        "inbox_at": None,
        "read_at": None,
        "acked_at": None,
    }


def from_doc(d: Doc) -> InboxItem:
    return InboxItem(
        id=d["_id"],
        title=d["title"],
        text=d["text"],
        urgency=d["urgency"],
        urgency_label=URGENCY_LABELS[Urgency(d["urgency"])],
        event_type=d["event_type"],
        event_id=d["event_id"],
        rule_id=d["rule_id"],
        rule_version=d["rule_version"],
        area_path=d["area_path"],
        created_at=d["created_at"],
        delivered_at=d.get("inbox_at"),
        read_at=d.get("read_at"),
        acked_at=d.get("acked_at"),
        ack_due_at=d.get("ack_due_at"),
        escalated_from=d.get("escalated_from"),
    )


def push_record(note: Doc, at: datetime) -> Doc:
    """What the open streams of the notification's recipient are sent (the hub watches these)."""
    return {
        "_id": note["_id"],
        "recipient": note["recipient"],
        "at": at,
        "item": from_doc(note).model_dump(mode="json"),
    }


class InboxStore(Protocol):
    async def existing_notifications(self, ids: list[str], session: Session) -> set[str]: ...

    async def insert_notifications(self, docs: list[Doc], session: Session) -> None: ...

    async def get_notification(self, nid: str, session: Session = None) -> Doc | None: ...

    async def notifications_by_ids(self, ids: list[str]) -> dict[str, Doc]: ...

    async def inbox(self, subject: str, *, unread_only: bool, unacked_only: bool, limit: int) -> list[Doc]: ...

    async def count_unread(self, subject: str) -> int: ...

    async def mark_read(self, nid: str, at: datetime) -> None: ...

    async def acknowledge(self, doc: Doc, at: datetime, session: Session) -> bool: ...

    async def insert_pushes(self, docs: list[Doc], session: Session) -> None: ...

    async def prune_pushes(self, before: datetime) -> int: ...

    async def preferences_of(self, subjects: list[str], session: Session = None) -> dict[str, Doc]: ...

    async def save_preferences(
        self, subject: str, *, channels: list[str], quiet_hours: Doc | None, at: datetime
    ) -> Doc: ...


class MongoInboxStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def existing_notifications(self, ids: list[str], session: Session) -> set[str]:
        docs = await self.db.notifications.find({"_id": {"$in": ids}}, {"_id": 1}, session=session).to_list(None)
        return {d["_id"] for d in docs}

    async def insert_notifications(self, docs: list[Doc], session: Session) -> None:
        if docs:
            await self.db.notifications.insert_many(docs, ordered=True, session=session)

    async def get_notification(self, nid: str, session: Session = None) -> Doc | None:
        return await self.db.notifications.find_one({"_id": nid}, session=session)

    async def notifications_by_ids(self, ids: list[str]) -> dict[str, Doc]:
        docs = await self.db.notifications.find({"_id": {"$in": ids}}).to_list(None)
        return {d["_id"]: d for d in docs}

    async def inbox(self, subject: str, *, unread_only: bool, unacked_only: bool, limit: int) -> list[Doc]:
        query: Doc = {"recipient": subject, "inbox_at": {"$ne": None}}
        if unread_only:
            query["read_at"] = None
        if unacked_only:
            query["urgency"] = "urgent"
            query["acked_at"] = None
        cursor = self.db.notifications.find(query).sort([("created_at", DESCENDING), ("_id", DESCENDING)])
        return await cursor.limit(limit).to_list(limit)

    async def count_unread(self, subject: str) -> int:
        return await self.db.notifications.count_documents(
            {"recipient": subject, "inbox_at": {"$ne": None}, "read_at": None}
        )

    async def mark_read(self, nid: str, at: datetime) -> None:
        await self.db.notifications.update_one({"_id": nid, "read_at": None}, {"$set": {"read_at": at}})

    async def acknowledge(self, doc: Doc, at: datetime, session: Session) -> bool:
        """Compare-and-set: only the first acknowledgement counts; a pending escalation stops."""
        escalation = doc.get("escalation")
        result = await self.db.notifications.update_one(
            {"_id": doc["_id"], "acked_at": None, "escalation": escalation},
            {
                "$set": {
                    "acked_at": at,
                    "read_at": doc.get("read_at") or at,
                    "escalation": Escalation.ACKNOWLEDGED.value
                    if escalation == Escalation.PENDING.value
                    else escalation,
                }
            },
            session=session,
        )
        return result.modified_count == 1

    async def insert_pushes(self, docs: list[Doc], session: Session) -> None:
        if docs:
            await self.db.pushes.insert_many(docs, ordered=True, session=session)

    async def prune_pushes(self, before: datetime) -> int:
        """Pushes are read by the open streams within moments; a day later they are history."""
        result = await self.db.pushes.delete_many({"at": {"$lt": before}})
        return result.deleted_count

    async def preferences_of(self, subjects: list[str], session: Session = None) -> dict[str, Doc]:
        docs = await self.db.preferences.find({"_id": {"$in": subjects}}, session=session).to_list(None)
        return {d["_id"]: d for d in docs}

    async def save_preferences(
        self, subject: str, *, channels: list[str], quiet_hours: Doc | None, at: datetime
    ) -> Doc:
        doc = {"_id": subject, "channels": channels, "quiet_hours": quiet_hours, "updated_at": at}
        await self.db.preferences.replace_one({"_id": subject}, doc, upsert=True)
        return doc
