"""MongoDB access of the notifications service. Every write inside a use case takes the unit of
work's session; the dispatcher's claims and marks are conditional updates (compare-and-set).

Collections: rules (the current version of each rule) and rule_versions (every version ever
saved), directory (cadres from the registry's staffing events), areas (names for templates),
preferences (per cadre), notifications (one per event, recipient and rule; the inbox),
deliveries (one per notification and channel: state, attempts, next attempt, lease) and
attempts (every attempt ever made)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from notifications_service.models import DeliveryState, Escalation

Doc = dict[str, Any]
Session = AsyncClientSession | None


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.rules.create_index([("event_type", ASCENDING), ("enabled", ASCENDING)], name="event_type")
    await db.rule_versions.create_index([("rule_id", ASCENDING), ("version", ASCENDING)], name="rule", unique=True)
    await db.directory.create_index(
        [("area_code", ASCENDING), ("role", ASCENDING), ("active", ASCENDING)], name="area_role"
    )
    await db.directory.create_index([("subject", ASCENDING), ("active", ASCENDING)], name="subject")
    await db.notifications.create_index([("recipient", ASCENDING), ("created_at", DESCENDING)], name="inbox")
    await db.notifications.create_index([("escalation", ASCENDING), ("ack_due_at", ASCENDING)], name="escalation")
    await db.notifications.create_index([("event_id", ASCENDING)], name="event")
    await db.deliveries.create_index([("state", ASCENDING), ("next_attempt_at", ASCENDING)], name="due")
    await db.deliveries.create_index([("state", ASCENDING), ("lease_until", ASCENDING)], name="lease")
    await db.deliveries.create_index([("notification_id", ASCENDING)], name="notification")
    await db.deliveries.create_index([("claim", ASCENDING)], name="claim")
    await db.pushes.create_index([("at", ASCENDING)], name="at")
    await db.attempts.create_index([("notification_id", ASCENDING), ("at", ASCENDING)], name="notification")


@dataclass(frozen=True)
class DirectoryWrite:
    """One staffing or area-name change: these fields of this document (created if `upsert`)."""

    collection: str  # directory / areas
    key: str
    fields: Doc
    upsert: bool


PENDING, SENDING = DeliveryState.PENDING.value, DeliveryState.SENDING.value
DELIVERED, DEAD = DeliveryState.DELIVERED.value, DeliveryState.DEAD.value


class NotificationsRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    # rules -----------------------------------------------------------------
    async def get_rule(self, rule_id: str, session: Session = None) -> Doc | None:
        return await self.db.rules.find_one({"_id": rule_id}, session=session)

    async def list_rules(self, *, include_deleted: bool, event_type: str | None) -> list[Doc]:
        query: Doc = {} if include_deleted else {"deleted": False}
        if event_type:
            query["event_type"] = event_type
        return await self.db.rules.find(query).sort("_id", ASCENDING).to_list(None)

    async def insert_rule(self, doc: Doc, session: Session) -> None:
        await self.db.rules.insert_one(doc, session=session)

    async def replace_rule(self, doc: Doc, *, expected_version: int, session: Session) -> bool:
        """Compare-and-set on the version: two officers editing at once cannot both win."""
        result = await self.db.rules.replace_one({"_id": doc["_id"], "version": expected_version}, doc, session=session)
        return result.modified_count == 1

    async def insert_rule_version(self, doc: Doc, session: Session) -> None:
        await self.db.rule_versions.insert_one(doc, session=session)

    async def rule_versions(self, rule_id: str) -> list[Doc]:
        return await self.db.rule_versions.find({"rule_id": rule_id}).sort("version", ASCENDING).to_list(None)

    async def seed_rule(self, doc: Doc, version_doc: Doc) -> bool:
        """Insert a default rule unless it exists (also when deleted): True when seeded now."""
        result = await self.db.rules.update_one({"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True)
        if result.upserted_id is None:
            return False
        await self.db.rule_versions.update_one({"_id": version_doc["_id"]}, {"$setOnInsert": version_doc}, upsert=True)
        return True

    async def all_active_rules(self) -> list[Doc]:
        return await self.db.rules.find({"enabled": True, "deleted": False}).sort("_id", ASCENDING).to_list(None)

    async def installed_at(self, now: datetime) -> datetime:
        """When this service's database first started routing (set once)."""
        await self.db.meta.update_one({"_id": "installed"}, {"$setOnInsert": {"at": now}}, upsert=True)
        doc = await self.db.meta.find_one({"_id": "installed"})
        assert doc is not None
        at: datetime = doc["at"]
        return at if at.tzinfo is not None else at.replace(tzinfo=now.tzinfo)

    # directory and area names ----------------------------------------------
    async def write_directory(self, writes: list[DirectoryWrite], session: Session) -> None:
        """Bulk writes to the directory and the area names, in their order (one per collection)."""
        ops: dict[str, list[UpdateOne]] = {}
        for w in writes:
            ops.setdefault(w.collection, []).append(UpdateOne({"_id": w.key}, {"$set": w.fields}, upsert=w.upsert))
        for collection, batch in ops.items():
            await self.db[collection].bulk_write(batch, ordered=True, session=session)

    async def staff_at(self, area_code: str, role: str, session: Session = None) -> list[Doc]:
        cursor = self.db.directory.find({"area_code": area_code, "role": role, "active": True}, session=session)
        return await cursor.sort("_id", ASCENDING).to_list(None)

    async def staff_by_subject(self, subject: str, session: Session = None) -> list[Doc]:
        return await self.db.directory.find({"subject": subject, "active": True}, session=session).to_list(None)

    async def directory_for(self, codes: list[str], roles: list[str], subjects: list[str]) -> list[Doc]:
        """The active staff of these roles at these areas, and these subjects' assignments (two
        plain `$in` look-ups on indexed fields: an `$or` would scan the whole directory)."""
        found: dict[str, Doc] = {}
        if codes and roles:
            for d in await self.db.directory.find({"area_code": {"$in": codes}}).to_list(None):
                if d.get("active") and d["role"] in roles:
                    found[d["_id"]] = d
        if subjects:
            for d in await self.db.directory.find({"subject": {"$in": subjects}}).to_list(None):
                if d.get("active"):
                    found[d["_id"]] = d
        return list(found.values())

    async def staff_in(self, area_code: str, *, limit: int) -> list[Doc]:
        cursor = self.db.directory.find({"area_path": area_code, "active": True})
        return await cursor.sort("_id", ASCENDING).limit(limit).to_list(limit)

    async def area_names(self, codes: list[str], session: Session = None) -> dict[str, str]:
        docs = await self.db.areas.find({"_id": {"$in": codes}}, {"name": 1}, session=session).to_list(None)
        return {d["_id"]: d["name"] for d in docs}

    # preferences -----------------------------------------------------------
    async def preferences_of(self, subjects: list[str], session: Session = None) -> dict[str, Doc]:
        docs = await self.db.preferences.find({"_id": {"$in": subjects}}, session=session).to_list(None)
        return {d["_id"]: d for d in docs}

    async def save_preferences(self, doc: Doc) -> None:
        await self.db.preferences.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    # notifications ---------------------------------------------------------
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

    # deliveries ------------------------------------------------------------
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

    async def mark_failed(self, delivery_id: str, *, token: str, fields: Doc, session: Session) -> bool:
        result = await self.db.deliveries.update_one(
            {"_id": delivery_id, "claim": token, "state": SENDING},
            {"$set": fields, "$inc": {"attempts": 1}},
            session=session,
        )
        return result.modified_count == 1

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

    # live push -------------------------------------------------------------
    async def insert_pushes(self, docs: list[Doc], session: Session) -> None:
        if docs:
            await self.db.pushes.insert_many(docs, ordered=True, session=session)

    async def prune_pushes(self, before: datetime) -> int:
        """Pushes are read by the open streams within moments; a day later they are history."""
        result = await self.db.pushes.delete_many({"at": {"$lt": before}})
        return result.deleted_count


class SessionDirectory:
    """The directory as the recipient resolver sees it, read inside the unit of work."""

    def __init__(self, repo: NotificationsRepository, session: Session) -> None:
        self.repo = repo
        self.session = session

    async def at(self, area_code: str, role: str) -> list[Doc]:
        return await self.repo.staff_at(area_code, role, self.session)

    async def by_subject(self, subject: str) -> list[Doc]:
        return await self.repo.staff_by_subject(subject, self.session)
