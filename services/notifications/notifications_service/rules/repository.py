"""Where the rules are kept: `rules` (the current version of each rule) and `rule_versions`
(every version ever saved, with what changed), and `meta` (when routing started here)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from notifications_service.rules.domain import rule_input
from notifications_service.rules.models import Rule, RuleIn
from relocation_shared.mongo import Doc

Session = AsyncClientSession | None


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.rules.create_index([("event_type", ASCENDING), ("enabled", ASCENDING)], name="event_type")
    await db.rule_versions.create_index([("rule_id", ASCENDING), ("version", ASCENDING)], name="rule", unique=True)


def to_doc(rule_id: str, version: int, data: RuleIn, *, by: str, at: datetime, default: bool = False) -> Doc:
    return {
        "_id": rule_id,
        "version": version,
        **data.model_dump(mode="json"),
        "deleted": False,
        "default": default,
        "updated_at": at,
        "updated_by": by,
    }


def version_doc(doc: Doc, change: str) -> Doc:
    return {**doc, "_id": f"{doc['_id']}@{doc['version']}", "rule_id": doc["_id"], "change": change}


def next_version(current: Doc, data: RuleIn | None, *, by: str, at: datetime) -> Doc:
    """The version after `current`: with `data`, or (None) the same rule deleted and disabled."""
    doc = to_doc(current["_id"], current["version"] + 1, data or rule_input(current), by=by, at=at)
    doc["default"] = current["default"]
    if data is None:
        doc["deleted"] = True
        doc["enabled"] = False
    return doc


def from_doc(d: Doc) -> Rule:
    return Rule(
        id=d.get("rule_id", d["_id"]),
        version=d["version"],
        name=d["name"],
        event_type=d["event_type"],
        conditions=d.get("conditions", []),
        audience=d["audience"],
        title=d["title"],
        template=d["template"],
        urgency=d["urgency"],
        ack_window_minutes=d.get("ack_window_minutes"),
        enabled=d.get("enabled", True),
        deleted=d.get("deleted", False),
        default=d.get("default", False),
        updated_at=d["updated_at"],
        updated_by=d.get("updated_by", ""),
    )


class RulesStore(Protocol):
    async def get_rule(self, rule_id: str, session: Session = None) -> Doc | None: ...

    async def list_rules(self, *, include_deleted: bool, event_type: str | None) -> list[Doc]: ...

    async def create_rule(self, rule_id: str, data: RuleIn, *, by: str, at: datetime, session: Session) -> Doc: ...

    async def save_version(
        self, current: Doc, data: RuleIn | None, *, by: str, at: datetime, change: str, session: Session
    ) -> Doc | None: ...

    async def rule_versions(self, rule_id: str) -> list[Doc]: ...

    async def seed_rule(self, rule_id: str, data: RuleIn, *, at: datetime) -> bool: ...

    async def all_active_rules(self) -> list[Doc]: ...

    async def installed_at(self, now: datetime) -> datetime: ...


class MongoRulesStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def get_rule(self, rule_id: str, session: Session = None) -> Doc | None:
        return await self.db.rules.find_one({"_id": rule_id}, session=session)

    async def list_rules(self, *, include_deleted: bool, event_type: str | None) -> list[Doc]:
        query: Doc = {} if include_deleted else {"deleted": False}
        if event_type:
            query["event_type"] = event_type
        return await self.db.rules.find(query).sort("_id", ASCENDING).to_list(None)

    async def create_rule(self, rule_id: str, data: RuleIn, *, by: str, at: datetime, session: Session) -> Doc:
        doc = to_doc(rule_id, 1, data, by=by, at=at)
        await self.db.rules.insert_one(doc, session=session)
        await self.db.rule_versions.insert_one(version_doc(doc, "created"), session=session)
        return doc

    async def save_version(
        self, current: Doc, data: RuleIn | None, *, by: str, at: datetime, change: str, session: Session
    ) -> Doc | None:
        """Compare-and-set on the version: two officers editing at once cannot both win (None:
        this one lost)."""
        doc = next_version(current, data, by=by, at=at)
        result = await self.db.rules.replace_one(
            {"_id": doc["_id"], "version": current["version"]}, doc, session=session
        )
        if result.modified_count != 1:
            return None
        await self.db.rule_versions.insert_one(version_doc(doc, change), session=session)
        return doc

    async def rule_versions(self, rule_id: str) -> list[Doc]:
        return await self.db.rule_versions.find({"rule_id": rule_id}).sort("version", ASCENDING).to_list(None)

    async def seed_rule(self, rule_id: str, data: RuleIn, *, at: datetime) -> bool:
        """Insert a default rule unless it exists (also when deleted): True when seeded now."""
        doc = to_doc(rule_id, 1, data, by="system", at=at, default=True)
        result = await self.db.rules.update_one({"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True)
        if result.upserted_id is None:
            return False
        version = version_doc(doc, "seeded")
        await self.db.rule_versions.update_one({"_id": version["_id"]}, {"$setOnInsert": version}, upsert=True)
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
