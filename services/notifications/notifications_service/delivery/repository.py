"""Where deliveries are kept: `deliveries` (one per notification and channel: state, attempts,
next attempt, lease) and `attempts` (every attempt ever made). The dispatcher's claims and
marks are conditional updates (compare-and-set)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from notifications_service.delivery.domain import (
    CHANNEL_LABELS,
    DELIVERY_STATE_LABELS,
    Channel,
    DeliveryState,
    OutgoingMessage,
    delivery_id,
)
from notifications_service.delivery.models import Attempt, Delivery
from relocation_shared.ids import new_id
from relocation_shared.mongo import Doc

Session = AsyncClientSession | None
PENDING, SENDING = DeliveryState.PENDING.value, DeliveryState.SENDING.value
DELIVERED, DEAD = DeliveryState.DELIVERED.value, DeliveryState.DEAD.value


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.deliveries.create_index([("state", ASCENDING), ("next_attempt_at", ASCENDING)], name="due")
    await db.deliveries.create_index([("state", ASCENDING), ("lease_until", ASCENDING)], name="lease")
    await db.deliveries.create_index([("notification_id", ASCENDING)], name="notification")
    await db.deliveries.create_index([("claim", ASCENDING)], name="claim")
    await db.attempts.create_index([("notification_id", ASCENDING), ("at", ASCENDING)], name="notification")


def to_doc(note: Doc, channel: Channel, *, now: datetime, due: datetime) -> Doc:
    """A pending delivery of a notification on one channel, due at `due`."""
    return {
        "_id": delivery_id(note["_id"], channel),
        "notification_id": note["_id"],
        "channel": channel.value,
        "recipient": note["recipient"],
        "event_type": note["event_type"],
        "rule_id": note["rule_id"],
        "area_path": note["area_path"],
        "state": PENDING,
        "attempts": 0,
        "replays": 0,
        "next_attempt_at": due,
        "lease_until": None,
        "claim": None,
        "created_at": now,
        "delivered_at": None,
        "last_error": None,
    }


def delivered_doc(note: Doc, channel: Channel, *, now: datetime) -> Doc:
    """A delivery done as it is made (the inbox's, in the routing transaction)."""
    doc = to_doc(note, channel, now=now, due=now)
    doc.update(state=DELIVERED, attempts=1, delivered_at=now, next_attempt_at=None)
    return doc


def attempt_doc(delivery: Doc, *, attempt: int, at: datetime, outcome: str, by: str | None, **extra: Any) -> Doc:
    """One attempt of a delivery (`extra`: status, error, ms where known)."""
    return {
        "_id": new_id(),
        "delivery_id": delivery["_id"],
        "notification_id": delivery["notification_id"],
        "channel": delivery["channel"],
        "attempt": attempt,
        "at": at,
        "outcome": outcome,
        **extra,
        "by": by,
    }


def from_doc(d: Doc, history: list[Doc] | None = None) -> Delivery:
    ch, st = Channel(d["channel"]), DeliveryState(d["state"])
    return Delivery(
        id=d["_id"],
        channel=ch,
        channel_label=CHANNEL_LABELS[ch],
        state=st,
        state_label=DELIVERY_STATE_LABELS[st],
        attempts=d.get("attempts", 0),
        next_attempt_at=d.get("next_attempt_at") if st is DeliveryState.PENDING else None,
        delivered_at=d.get("delivered_at"),
        last_error=d.get("last_error"),
        replays=d.get("replays", 0),
        history=[Attempt.model_validate(h) for h in history or []],
    )


def message_from_doc(d: Doc) -> OutgoingMessage:
    """What a channel sends for a notification."""
    return OutgoingMessage(
        notification_id=d["_id"],
        recipient=d["recipient"],
        title=d["title"],
        text=d["text"],
        urgency=d["urgency"],
        event_type=d["event_type"],
        created_at=d["created_at"],
        ack_due_at=d.get("ack_due_at"),
        extra=d,
    )


class DeliveryStore(Protocol):
    async def insert_deliveries(self, docs: list[Doc], session: Session) -> None: ...

    async def due_deliveries(self, now: datetime, *, limit: int) -> list[Doc]: ...

    async def claim(
        self, ids: list[str], *, now: datetime, token: str, owner: str, lease_until: datetime
    ) -> list[Doc]: ...

    async def release_claims(self, *, owner: str, now: datetime) -> None: ...

    async def count_interrupted(self, ids: list[str], *, token: str) -> None: ...

    async def mark_delivered(self, ids: list[str], *, token: str, at: datetime, session: Session) -> list[str]: ...

    async def mark_retry(
        self, delivery_id: str, *, token: str, next_attempt_at: datetime, error: str, session: Session
    ) -> bool: ...

    async def mark_dead(self, delivery_id: str, *, token: str, at: datetime, error: str, session: Session) -> bool: ...

    async def insert_attempts(self, docs: list[Doc], session: Session) -> None: ...

    async def deliveries_of(self, nid: str) -> list[Doc]: ...

    async def attempts_of(self, nid: str) -> list[Doc]: ...

    async def get_delivery(self, delivery_id: str, session: Session = None) -> Doc | None: ...

    async def dead_letters(self, areas: list[str], *, limit: int) -> list[Doc]: ...

    async def replay(self, delivery_id: str, *, now: datetime, session: Session) -> bool: ...


class MongoDeliveryStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def insert_deliveries(self, docs: list[Doc], session: Session) -> None:
        if docs:
            await self.db.deliveries.insert_many(docs, ordered=True, session=session)

    async def due_deliveries(self, now: datetime, *, limit: int) -> list[Doc]:
        """Pending ones whose time has come, then ones whose claim lapsed (a dispatcher died)."""
        pending = (
            await self.db.deliveries.find({"state": PENDING, "next_attempt_at": {"$lte": now}}, {"_id": 1, "state": 1})
            .sort("next_attempt_at", ASCENDING)
            .limit(limit)
            .to_list(limit)
        )
        if len(pending) < limit:
            pending += (
                await self.db.deliveries.find(
                    {"state": SENDING, "lease_until": {"$lt": now}}, {"_id": 1, "state": 1, "claimed_by": 1}
                )
                .limit(limit - len(pending))
                .to_list(limit)
            )
        return pending

    async def claim(self, ids: list[str], *, now: datetime, token: str, owner: str, lease_until: datetime) -> list[Doc]:
        """Compare-and-set on each delivery's state: a delivery is claimed by exactly one
        dispatcher; the claim token says which ones this round got."""
        await self.db.deliveries.update_many(
            {
                "_id": {"$in": ids},
                "$or": [
                    {"state": PENDING, "next_attempt_at": {"$lte": now}},
                    {"state": SENDING, "lease_until": {"$lt": now}},
                ],
            },
            {"$set": {"state": SENDING, "claim": token, "claimed_by": owner, "lease_until": lease_until}},
        )
        return await self.db.deliveries.find({"claim": token, "state": SENDING}).to_list(None)

    async def release_claims(self, *, owner: str, now: datetime) -> None:
        """What this dispatcher claimed and did not finish is due again now (a clean stop)."""
        await self.db.deliveries.update_many(
            {"claimed_by": owner, "state": SENDING},
            {"$set": {"state": PENDING, "next_attempt_at": now, "claim": None}},
        )

    async def count_interrupted(self, ids: list[str], *, token: str) -> None:
        """An attempt whose dispatcher died mid-send counts as an attempt."""
        await self.db.deliveries.update_many({"_id": {"$in": ids}, "claim": token}, {"$inc": {"attempts": 1}})

    async def mark_delivered(self, ids: list[str], *, token: str, at: datetime, session: Session) -> list[str]:
        """Mark the claimed deliveries done; returns those this claim still held."""
        result = await self.db.deliveries.update_many(
            {"_id": {"$in": ids}, "claim": token, "state": SENDING},
            {"$set": {"state": DELIVERED, "delivered_at": at, "last_error": None}, "$inc": {"attempts": 1}},
            session=session,
        )
        if result.modified_count == len(ids):
            return ids
        docs = await self.db.deliveries.find(
            {"_id": {"$in": ids}, "claim": token, "state": DELIVERED}, {"_id": 1}, session=session
        ).to_list(None)
        return [d["_id"] for d in docs]

    async def _mark_failed(self, delivery_id: str, token: str, fields: Doc, session: Session) -> bool:
        result = await self.db.deliveries.update_one(
            {"_id": delivery_id, "claim": token, "state": SENDING},
            {"$set": fields, "$inc": {"attempts": 1}},
            session=session,
        )
        return result.modified_count == 1

    async def mark_retry(
        self, delivery_id: str, *, token: str, next_attempt_at: datetime, error: str, session: Session
    ) -> bool:
        """A failed attempt with another to come: pending again from `next_attempt_at`."""
        fields = {"state": PENDING, "next_attempt_at": next_attempt_at, "last_error": error, "claim": None}
        return await self._mark_failed(delivery_id, token, fields, session)

    async def mark_dead(self, delivery_id: str, *, token: str, at: datetime, error: str, session: Session) -> bool:
        """The last failed attempt: into the dead-letter list."""
        fields = {"state": DEAD, "dead_at": at, "last_error": error, "claim": None}
        return await self._mark_failed(delivery_id, token, fields, session)

    async def insert_attempts(self, docs: list[Doc], session: Session) -> None:
        if docs:
            await self.db.attempts.insert_many(docs, ordered=False, session=session)

    async def deliveries_of(self, nid: str) -> list[Doc]:
        return await self.db.deliveries.find({"notification_id": nid}).sort("_id", ASCENDING).to_list(None)

    async def attempts_of(self, nid: str) -> list[Doc]:
        return await self.db.attempts.find({"notification_id": nid}).sort("at", ASCENDING).to_list(None)

    async def get_delivery(self, delivery_id: str, session: Session = None) -> Doc | None:
        return await self.db.deliveries.find_one({"_id": delivery_id}, session=session)

    async def dead_letters(self, areas: list[str], *, limit: int) -> list[Doc]:
        cursor = self.db.deliveries.find({"state": DEAD, "area_path": {"$in": areas}})
        return await cursor.sort("dead_at", DESCENDING).limit(limit).to_list(limit)

    async def replay(self, delivery_id: str, *, now: datetime, session: Session) -> bool:
        """Compare-and-set dead → pending, with a fresh round of attempts."""
        result = await self.db.deliveries.update_one(
            {"_id": delivery_id, "state": DEAD},
            {
                "$set": {"state": PENDING, "next_attempt_at": now, "attempts": 0, "claim": None},
                "$inc": {"replays": 1},
            },
            session=session,
        )
        return result.modified_count == 1
