"""A base for in-memory fake repositories: dicts of documents with the MongoDB behaviours the
use cases rely on: copies in and out, unique `_id`, datetimes kept to the millisecond."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from relocation_shared.mongo import Doc


def _stored(value: Any) -> Any:
    """A deep copy as MongoDB would keep it: datetimes to the millisecond, tuples as lists."""
    if isinstance(value, dict):
        return {k: _stored(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_stored(v) for v in value]
    if isinstance(value, datetime):
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    return copy.deepcopy(value)


class FakeCollections:
    COLLECTIONS: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Doc]] = {c: {} for c in self.COLLECTIONS}

    def snapshot(self) -> dict[str, dict[str, Doc]]:
        return copy.deepcopy(self.data)

    def restore(self, state: dict[str, dict[str, Doc]]) -> None:
        self.data = state

    def _get(self, collection: str, key: str) -> Doc | None:
        doc = self.data[collection].get(key)
        return copy.deepcopy(doc) if doc is not None else None

    def _by_ids(self, collection: str, ids: Iterable[str]) -> dict[str, Doc]:
        return {i: copy.deepcopy(self.data[collection][i]) for i in set(ids) if i in self.data[collection]}

    def _insert(self, collection: str, doc: Doc) -> None:
        if doc["_id"] in self.data[collection]:
            raise DuplicateKeyError(f"E11000 duplicate key {collection} _id {doc['_id']}")
        self.data[collection][doc["_id"]] = _stored(doc)

    def _set(self, collection: str, key: str, fields: Doc) -> bool:
        doc = self.data[collection].get(key)
        if doc is None:
            return False
        doc.update(_stored(fields))
        return True

    def _sorted(self, collection: str, where: Callable[[Doc], bool], key: str) -> list[Doc]:
        return copy.deepcopy(sorted((d for d in self.data[collection].values() if where(d)), key=lambda d: d[key]))

    def all_documents(self) -> list[Doc]:
        return [copy.deepcopy(d) for c in self.data.values() for d in c.values()]
