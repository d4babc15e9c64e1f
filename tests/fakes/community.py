"""In-memory fakes for the community work's unit tests (cosmicpython style): the part of
`CommunityRepository` the deadline scheduler uses, over dicts, and a unit of work that keeps
the repository's changes and the recorded events together, or neither."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

T = TypeVar("T")
Doc = dict[str, Any]


class FakeCommunityRepository:
    def __init__(self) -> None:
        self.requests: dict[str, Doc] = {}
        self.disputes: dict[str, Doc] = {}
        self.broken: set[str] = set()  # ids whose reads fail, as a database error would
        self.on_read: Callable[[str], None] | None = None  # a concurrent writer, between query and read

    def snapshot(self) -> tuple[dict[str, Doc], dict[str, Doc]]:
        return copy.deepcopy(self.requests), copy.deepcopy(self.disputes)

    def restore(self, state: tuple[dict[str, Doc], dict[str, Doc]]) -> None:
        self.requests, self.disputes = state

    # requests
    async def get_request(self, request_id: str, session: Any = None) -> Doc | None:
        if request_id in self.broken:
            raise RuntimeError(f"cannot read {request_id}")
        if self.on_read is not None:
            self.on_read(request_id)
        doc = self.requests.get(request_id)
        return copy.deepcopy(doc) if doc is not None else None

    async def replace_request(self, doc: Doc, *, expected_version: int, session: Any) -> bool:
        current = self.requests.get(doc["_id"])
        if current is None or current["version"] != expected_version:
            return False
        self.requests[doc["_id"]] = copy.deepcopy(doc)
        return True

    async def due_request_ids(self, now: datetime, *, exclude: list[str], limit: int) -> list[str]:
        return _due(self.requests, now, exclude, limit)

    # disputes
    async def get_dispute(self, dispute_id: str, session: Any = None) -> Doc | None:
        doc = self.disputes.get(dispute_id)
        return copy.deepcopy(doc) if doc is not None else None

    async def replace_dispute(self, doc: Doc, *, expected_version: int, session: Any) -> bool:
        current = self.disputes.get(doc["_id"])
        if current is None or current["version"] != expected_version:
            return False
        self.disputes[doc["_id"]] = copy.deepcopy(doc)
        return True

    async def due_dispute_ids(self, now: datetime, *, exclude: list[str], limit: int) -> list[str]:
        return _due(self.disputes, now, exclude, limit)


def _due(docs: dict[str, Doc], now: datetime, exclude: list[str], limit: int) -> list[str]:
    due = [d for d in docs.values() if d.get("next_deadline_at") is not None and d["next_deadline_at"] <= now]
    due = [d for d in due if d["_id"] not in exclude]
    due.sort(key=lambda d: (d["next_deadline_at"], d["_id"]))
    return [d["_id"] for d in due[:limit]]
