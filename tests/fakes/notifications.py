"""In-memory fakes for the notifications service's unit tests (cosmicpython style): one fake per
store Protocol, all over one `FakeState` (the collections as dicts), which the one
`FakeUnitOfWork` snapshots and restores; a directory fake; `fake_stores()` to wire them."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from notifications_service.delivery.repository import DeliveryStore, MongoDeliveryStore
from notifications_service.escalation.domain import Escalation
from notifications_service.escalation.repository import EscalationStore, MongoEscalationStore
from notifications_service.inbox.repository import InboxStore, MongoInboxStore
from notifications_service.routing.domain import Directory, MemoryDirectory
from notifications_service.routing.repository import DirectoryStore, MongoDirectoryStore, Session, directory_writes
from notifications_service.rules.models import RuleIn
from notifications_service.rules.repository import (
    MongoRulesStore,
    RulesStore,
    next_version,
    to_doc,
    version_doc,
)
from notifications_service.wiring import Stores
from relocation_shared.events import Envelope, EventPayload
from relocation_shared.mongo import Doc
from tests.fakes.registry import Pair

COLLECTIONS = (
    "rules",
    "rule_versions",
    "directory",
    "areas",
    "preferences",
    "notifications",
    "deliveries",
    "attempts",
    "pushes",
    "meta",
)


def staff(staff_id: str, subject: str, role: str, area_path: list[str], name: str = "张*") -> Doc:
    levels = ["province", "city", "county", "town", "community", "grid", "building"]
    return {
        "_id": staff_id,
        "subject": subject,
        "name_masked": name,
        "role": role,
        "area_code": area_path[-1],
        "area_level": levels[len(area_path) - 1],
        "area_path": area_path,
        "active": True,
    }


class FakeState:
    """The service's collections, as dicts by id; what a rollback puts back."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Doc]] = {c: {} for c in COLLECTIONS}

    def snapshot(self) -> Any:
        return copy.deepcopy(self.data)

    def restore(self, state: Any) -> None:
        self.data = state

    def notifications(self) -> list[Doc]:
        return list(self.data["notifications"].values())


class _Fake:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    @property
    def data(self) -> dict[str, dict[str, Doc]]:
        return self.state.data

    def snapshot(self) -> Any:
        return self.state.snapshot()

    def restore(self, state: Any) -> None:
        self.state.restore(state)

    def _insert(self, collection: str, docs: list[Doc], what: str) -> None:
        for d in docs:
            assert d["_id"] not in self.data[collection], what
            self.data[collection][d["_id"]] = copy.deepcopy(d)


class FakeDirectory:
    def __init__(self, docs: list[Doc]) -> None:
        self.docs = docs

    async def at(self, area_code: str, role: str) -> list[Doc]:
        return [d for d in self.docs if d["area_code"] == area_code and d["role"] == role and d["active"]]

    async def by_subject(self, subject: str) -> list[Doc]:
        return [d for d in self.docs if d["subject"] == subject and d["active"]]


class FakeRulesStore(_Fake):
    async def get_rule(self, rule_id: str, session: Session = None) -> Doc | None:
        return copy.deepcopy(self.data["rules"].get(rule_id))

    async def list_rules(self, *, include_deleted: bool, event_type: str | None) -> list[Doc]:
        rules = [
            r
            for r in self.data["rules"].values()
            if (include_deleted or not r["deleted"]) and (not event_type or r["event_type"] == event_type)
        ]
        return copy.deepcopy(sorted(rules, key=lambda r: r["_id"]))

    async def create_rule(self, rule_id: str, data: RuleIn, *, by: str, at: datetime, session: Session) -> Doc:
        doc = to_doc(rule_id, 1, data, by=by, at=at)
        self._insert("rules", [doc], "duplicate rule")
        self._insert("rule_versions", [version_doc(doc, "created")], "duplicate rule version")
        return doc

    async def save_version(
        self, current: Doc, data: RuleIn | None, *, by: str, at: datetime, change: str, session: Session
    ) -> Doc | None:
        doc = next_version(current, data, by=by, at=at)
        stored = self.data["rules"].get(doc["_id"])
        if stored is None or stored["version"] != current["version"]:
            return None
        self.data["rules"][doc["_id"]] = copy.deepcopy(doc)
        self._insert("rule_versions", [version_doc(doc, change)], "duplicate rule version")
        return doc

    async def rule_versions(self, rule_id: str) -> list[Doc]:
        docs = [d for d in self.data["rule_versions"].values() if d["rule_id"] == rule_id]
        return copy.deepcopy(sorted(docs, key=lambda d: d["version"]))

    async def seed_rule(self, rule_id: str, data: RuleIn, *, at: datetime) -> bool:
        if rule_id in self.data["rules"]:
            return False
        doc = to_doc(rule_id, 1, data, by="system", at=at, default=True)
        self.data["rules"][rule_id] = copy.deepcopy(doc)
        version = version_doc(doc, "seeded")
        self.data["rule_versions"].setdefault(version["_id"], version)
        return True

    async def all_active_rules(self) -> list[Doc]:
        rules = [r for r in self.data["rules"].values() if r["enabled"] and not r["deleted"]]
        return copy.deepcopy(sorted(rules, key=lambda r: r["_id"]))

    async def installed_at(self, now: datetime) -> datetime:
        at: datetime = self.data["meta"].setdefault("installed", {"_id": "installed", "at": now})["at"]
        return at


class FakeDirectoryStore(_Fake):
    async def apply_staffing(self, items: list[tuple[Envelope, EventPayload]], session: Session = None) -> None:
        for w in directory_writes(items):
            docs = self.data[w.collection]
            if w.key in docs or w.upsert:
                docs.setdefault(w.key, {"_id": w.key}).update(copy.deepcopy(w.fields))

    def _active(self) -> list[Doc]:
        return [d for d in self.data["directory"].values() if d["active"]]

    async def staff_at(self, area_code: str, role: str, session: Session = None) -> list[Doc]:
        docs = [d for d in self._active() if d["area_code"] == area_code and d["role"] == role]
        return copy.deepcopy(sorted(docs, key=lambda d: d["_id"]))

    async def staff_by_subject(self, subject: str, session: Session = None) -> list[Doc]:
        return copy.deepcopy([d for d in self._active() if d["subject"] == subject])

    async def directory_for(self, codes: list[str], roles: list[str], subjects: list[str]) -> list[Doc]:
        return copy.deepcopy(
            [d for d in self._active() if (d["area_code"] in codes and d["role"] in roles) or d["subject"] in subjects]
        )

    async def staff_in(self, area_code: str, *, limit: int) -> list[Doc]:
        docs = [d for d in self._active() if area_code in d.get("area_path", [])]
        return copy.deepcopy(sorted(docs, key=lambda d: d["_id"])[:limit])

    async def area_names(self, codes: list[str], session: Session = None) -> dict[str, str]:
        return {c: self.data["areas"][c]["name"] for c in codes if c in self.data["areas"]}


class FakeInboxStore(_Fake):
    async def existing_notifications(self, ids: list[str], session: Session) -> set[str]:
        return {i for i in ids if i in self.data["notifications"]}

    async def insert_notifications(self, docs: list[Doc], session: Session) -> None:
        self._insert("notifications", docs, "duplicate notification key")

    async def get_notification(self, nid: str, session: Session = None) -> Doc | None:
        return copy.deepcopy(self.data["notifications"].get(nid))

    async def notifications_by_ids(self, ids: list[str]) -> dict[str, Doc]:
        return {i: copy.deepcopy(self.data["notifications"][i]) for i in ids if i in self.data["notifications"]}

    async def inbox(self, subject: str, *, unread_only: bool, unacked_only: bool, limit: int) -> list[Doc]:
        docs = [
            d
            for d in self.data["notifications"].values()
            if d["recipient"] == subject
            and d.get("inbox_at") is not None
            and not (unread_only and d.get("read_at") is not None)
            and not (unacked_only and (d["urgency"] != "urgent" or d.get("acked_at") is not None))
        ]
        docs.sort(key=lambda d: (d["created_at"], d["_id"]), reverse=True)
        return copy.deepcopy(docs[:limit])

    async def count_unread(self, subject: str) -> int:
        return len(await self.inbox(subject, unread_only=True, unacked_only=False, limit=1_000_000))

    async def mark_read(self, nid: str, at: datetime) -> None:
        doc = self.data["notifications"].get(nid)
        if doc is not None and doc.get("read_at") is None:
            doc["read_at"] = at

    async def acknowledge(self, doc: Doc, at: datetime, session: Session) -> bool:
        stored = self.data["notifications"].get(doc["_id"])
        if stored is None or stored.get("acked_at") is not None or stored.get("escalation") != doc.get("escalation"):
            return False
        stored["acked_at"] = at
        stored["read_at"] = doc.get("read_at") or at
        if stored.get("escalation") == Escalation.PENDING.value:
            stored["escalation"] = Escalation.ACKNOWLEDGED.value
        return True

    async def insert_pushes(self, docs: list[Doc], session: Session) -> None:
        self._insert("pushes", docs, "pushed twice")

    async def prune_pushes(self, before: datetime) -> int:
        old = [k for k, d in self.data["pushes"].items() if d["at"] < before]
        for k in old:
            del self.data["pushes"][k]
        return len(old)

    async def preferences_of(self, subjects: list[str], session: Session = None) -> dict[str, Doc]:
        return {s: copy.deepcopy(self.data["preferences"][s]) for s in subjects if s in self.data["preferences"]}

    async def save_preferences(
        self, subject: str, *, channels: list[str], quiet_hours: Doc | None, at: datetime
    ) -> Doc:
        doc = {"_id": subject, "channels": channels, "quiet_hours": quiet_hours, "updated_at": at}
        self.data["preferences"][subject] = copy.deepcopy(doc)
        return doc


class FakeDeliveryStore(_Fake):
    """Deliveries by id, with the real store's compare-and-set rules on state and claim."""

    def _due(self, d: Doc, now: datetime) -> bool:
        pending = d["state"] == "pending" and d.get("next_attempt_at") is not None and d["next_attempt_at"] <= now
        lapsed = d["state"] == "sending" and d.get("lease_until") is not None and d["lease_until"] < now
        return pending or lapsed

    async def insert_deliveries(self, docs: list[Doc], session: Session) -> None:
        self._insert("deliveries", docs, "duplicate delivery")

    async def due_deliveries(self, now: datetime, *, limit: int) -> list[Doc]:
        docs = [d for d in self.data["deliveries"].values() if self._due(d, now)]
        docs.sort(key=lambda d: (d["state"] != "pending", d.get("next_attempt_at") or now))
        return copy.deepcopy(docs[:limit])

    async def claim(self, ids: list[str], *, now: datetime, token: str, owner: str, lease_until: datetime) -> list[Doc]:
        for i in ids:
            d = self.data["deliveries"].get(i)
            if d is not None and self._due(d, now):
                d.update(state="sending", claim=token, claimed_by=owner, lease_until=lease_until)
        return copy.deepcopy([d for d in self.data["deliveries"].values() if d.get("claim") == token])

    async def release_claims(self, *, owner: str, now: datetime) -> None:
        for d in self.data["deliveries"].values():
            if d.get("claimed_by") == owner and d["state"] == "sending":
                d.update(state="pending", next_attempt_at=now, claim=None)

    async def count_interrupted(self, ids: list[str], *, token: str) -> None:
        for i in ids:
            d = self.data["deliveries"].get(i)
            if d is not None and d.get("claim") == token:
                d["attempts"] = d.get("attempts", 0) + 1

    def _held(self, delivery_id: str, token: str) -> Doc | None:
        d = self.data["deliveries"].get(delivery_id)
        return d if d is not None and d.get("claim") == token and d["state"] == "sending" else None

    async def mark_delivered(self, ids: list[str], *, token: str, at: datetime, session: Session) -> list[str]:
        done = []
        for i in ids:
            d = self._held(i, token)
            if d is not None:
                d.update(state="delivered", delivered_at=at, last_error=None, attempts=d.get("attempts", 0) + 1)
                done.append(i)
        return done

    async def mark_retry(
        self, delivery_id: str, *, token: str, next_attempt_at: datetime, error: str, session: Session
    ) -> bool:
        d = self._held(delivery_id, token)
        if d is None:
            return False
        d.update(state="pending", next_attempt_at=next_attempt_at, last_error=error, claim=None)
        d["attempts"] = d.get("attempts", 0) + 1
        return True

    async def mark_dead(self, delivery_id: str, *, token: str, at: datetime, error: str, session: Session) -> bool:
        d = self._held(delivery_id, token)
        if d is None:
            return False
        d.update(state="dead", dead_at=at, last_error=error, claim=None, attempts=d.get("attempts", 0) + 1)
        return True

    async def insert_attempts(self, docs: list[Doc], session: Session) -> None:
        for d in docs:
            self.data["attempts"][d["_id"]] = copy.deepcopy(d)

    async def deliveries_of(self, nid: str) -> list[Doc]:
        docs = [d for d in self.data["deliveries"].values() if d["notification_id"] == nid]
        return copy.deepcopy(sorted(docs, key=lambda d: d["_id"]))

    async def attempts_of(self, nid: str) -> list[Doc]:
        docs = [d for d in self.data["attempts"].values() if d["notification_id"] == nid]
        return copy.deepcopy(sorted(docs, key=lambda d: d["at"]))

    async def get_delivery(self, delivery_id: str, session: Session = None) -> Doc | None:
        return copy.deepcopy(self.data["deliveries"].get(delivery_id))

    async def dead_letters(self, areas: list[str], *, limit: int) -> list[Doc]:
        docs = [
            d for d in self.data["deliveries"].values() if d["state"] == "dead" and set(areas) & set(d["area_path"])
        ]
        return copy.deepcopy(sorted(docs, key=lambda d: d["dead_at"], reverse=True)[:limit])

    async def replay(self, delivery_id: str, *, now: datetime, session: Session) -> bool:
        d = self.data["deliveries"].get(delivery_id)
        if d is None or d["state"] != "dead":
            return False
        d.update(state="pending", next_attempt_at=now, attempts=0, claim=None, replays=d.get("replays", 0) + 1)
        return True


class FakeEscalationStore(_Fake):
    async def due_escalations(self, now: datetime, *, limit: int) -> list[Doc]:
        due = [
            d
            for d in self.data["notifications"].values()
            if d["escalation"] == "pending" and d["acked_at"] is None and d["ack_due_at"] <= now
        ]
        return copy.deepcopy(sorted(due, key=lambda d: d["ack_due_at"])[:limit])

    async def settle_escalation(self, nid: str, outcome: Escalation, at: datetime, session: Session) -> bool:
        doc = self.data["notifications"][nid]
        if doc["escalation"] != "pending" or doc["acked_at"] is not None:
            return False
        doc["escalation"] = outcome.value
        doc["escalated_at"] = at
        return True


def fake_stores(state: FakeState | None = None) -> tuple[Stores, FakeState]:
    """Every store over one state (give it to the FakeUnitOfWork: one rollback for all)."""
    state = state or FakeState()
    stores = Stores(
        rules=FakeRulesStore(state),
        directory=FakeDirectoryStore(state),
        inbox=FakeInboxStore(state),
        deliveries=FakeDeliveryStore(state),
        escalations=FakeEscalationStore(state),
    )
    return stores, state


PAIRS = [
    Pair(protocol=RulesStore, real=MongoRulesStore, fake=FakeRulesStore),
    Pair(protocol=DirectoryStore, real=MongoDirectoryStore, fake=FakeDirectoryStore),
    Pair(protocol=InboxStore, real=MongoInboxStore, fake=FakeInboxStore),
    Pair(protocol=DeliveryStore, real=MongoDeliveryStore, fake=FakeDeliveryStore),
    Pair(protocol=EscalationStore, real=MongoEscalationStore, fake=FakeEscalationStore),
    Pair(protocol=Directory, real=MemoryDirectory, fake=FakeDirectory),
]
