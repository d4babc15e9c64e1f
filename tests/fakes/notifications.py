"""In-memory fakes for the notifications service's unit tests (cosmicpython style): a repository
with the methods routing and escalation use, over dicts, a unit of work that keeps the
repository's state and the recorded events together or neither, and a directory."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any, TypeVar

T = TypeVar("T")
Doc = dict[str, Any]


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


class FakeDirectory:
    def __init__(self, docs: list[Doc]) -> None:
        self.docs = docs

    async def at(self, area_code: str, role: str) -> list[Doc]:
        return [d for d in self.docs if d["area_code"] == area_code and d["role"] == role and d["active"]]

    async def by_subject(self, subject: str) -> list[Doc]:
        return [d for d in self.docs if d["subject"] == subject and d["active"]]


class FakeNotificationsRepository:
    def __init__(self) -> None:
        self.data: dict[str, dict[str, Doc]] = {
            c: {} for c in ("rules", "directory", "areas", "preferences", "notifications", "deliveries", "meta")
        }

    def snapshot(self) -> Any:
        return copy.deepcopy(self.data)

    def restore(self, state: Any) -> None:
        self.data = state

    # rules
    async def all_active_rules(self) -> list[Doc]:
        rules = [r for r in self.data["rules"].values() if r["enabled"] and not r["deleted"]]
        return copy.deepcopy(sorted(rules, key=lambda r: r["_id"]))

    async def directory_for(self, codes: list[str], roles: list[str], subjects: list[str]) -> list[Doc]:
        return copy.deepcopy(
            [
                d
                for d in self.data["directory"].values()
                if d["active"] and ((d["area_code"] in codes and d["role"] in roles) or d["subject"] in subjects)
            ]
        )

    async def installed_at(self, now: datetime) -> datetime:
        return self.data["meta"].setdefault("installed", {"at": now})["at"]  # type: ignore[no-any-return]

    async def seed_rule(self, doc: Doc, version_doc: Doc) -> bool:
        if doc["_id"] in self.data["rules"]:
            return False
        self.data["rules"][doc["_id"]] = copy.deepcopy(doc)
        return True

    # directory
    async def write_directory(self, writes: list[Any], session: Any) -> None:
        for w in writes:
            docs = self.data[w.collection]
            if w.key in docs or w.upsert:
                docs.setdefault(w.key, {"_id": w.key}).update(copy.deepcopy(w.fields))

    async def staff_at(self, area_code: str, role: str, session: Any = None) -> list[Doc]:
        return await FakeDirectory(list(self.data["directory"].values())).at(area_code, role)

    async def staff_by_subject(self, subject: str, session: Any = None) -> list[Doc]:
        return await FakeDirectory(list(self.data["directory"].values())).by_subject(subject)

    async def area_names(self, codes: list[str], session: Any = None) -> dict[str, str]:
        return {c: self.data["areas"][c]["name"] for c in codes if c in self.data["areas"]}

    # preferences and notifications
    async def preferences_of(self, subjects: list[str], session: Any = None) -> dict[str, Doc]:
        return {s: copy.deepcopy(self.data["preferences"][s]) for s in subjects if s in self.data["preferences"]}

    async def existing_notifications(self, ids: list[str], session: Any) -> set[str]:
        return {i for i in ids if i in self.data["notifications"]}

    async def insert_notifications(self, docs: list[Doc], session: Any) -> None:
        for d in docs:
            assert d["_id"] not in self.data["notifications"], "duplicate notification key"
            self.data["notifications"][d["_id"]] = copy.deepcopy(d)

    async def insert_deliveries(self, docs: list[Doc], session: Any) -> None:
        for d in docs:
            assert d["_id"] not in self.data["deliveries"], "duplicate delivery"
            self.data["deliveries"][d["_id"]] = copy.deepcopy(d)

    async def insert_attempts(self, docs: list[Doc], session: Any) -> None:
        for d in docs:
            self.data.setdefault("attempts", {})[d["_id"]] = copy.deepcopy(d)

    async def insert_pushes(self, docs: list[Doc], session: Any) -> None:
        for d in docs:
            assert d["_id"] not in self.data.setdefault("pushes", {}), "pushed twice"
            self.data["pushes"][d["_id"]] = copy.deepcopy(d)

    async def get_notification(self, nid: str, session: Any = None) -> Doc | None:
        doc = self.data["notifications"].get(nid)
        return copy.deepcopy(doc) if doc else None

    async def due_escalations(self, now: datetime, *, limit: int) -> list[Doc]:
        due = [
            d
            for d in self.data["notifications"].values()
            if d["escalation"] == "pending" and d["acked_at"] is None and d["ack_due_at"] <= now
        ]
        return copy.deepcopy(due[:limit])

    async def settle_escalation(self, nid: str, outcome: Any, at: datetime, session: Any) -> bool:
        doc = self.data["notifications"][nid]
        if doc["escalation"] != "pending" or doc["acked_at"] is not None:
            return False
        doc["escalation"] = outcome.value
        doc["escalated_at"] = at
        return True

    # helpers for assertions
    def notifications(self) -> list[Doc]:
        return list(self.data["notifications"].values())
