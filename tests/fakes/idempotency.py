"""The in-memory idempotency store, and `idempotent` to give a fake unit of work one: the store
is rolled back with the other repositories when a transaction body fails."""

from __future__ import annotations

from typing import Any

from relocation_shared.idempotency import IdempotencyStore, MongoIdempotencyStore, Session, fingerprint
from relocation_shared.mongo import Doc
from tests.fakes.collections import FakeCollections
from tests.fakes.registry import Pair
from tests.fakes.uow import FakeUnitOfWork


class FakeIdempotencyStore(FakeCollections):
    COLLECTIONS = ("idempotency",)

    def fingerprint(self, request: Any) -> str:
        return fingerprint(request, key=b"test-pii-key")

    async def find(self, record_id: str, session: Session) -> Doc | None:
        return self._get("idempotency", record_id)

    async def insert(self, record: Doc, session: Session) -> None:
        self._insert("idempotency", record)

    @property
    def records(self) -> list[Doc]:
        return list(self.data["idempotency"].values())


def idempotent(uow: FakeUnitOfWork, store: FakeIdempotencyStore | None = None) -> FakeIdempotencyStore:
    """Let `run_once` keep its records in an in-memory store on this fake unit of work."""
    store = store or FakeIdempotencyStore()
    uow.repos.append(store)
    uow.idempotency = store  # type: ignore[attr-defined]
    return store


PAIRS = [Pair(protocol=IdempotencyStore, real=MongoIdempotencyStore, fake=FakeIdempotencyStore)]
