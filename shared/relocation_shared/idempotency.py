"""Writes that happen at most once per idempotency key.

A client whose response was lost sends the same request again with the same `Idempotency-Key`
header; it must get the first answer, not a second set of records. `run_once` runs a use case's
transaction body at most once per (principal subject, scope, key): inside the SAME transaction as
the write it looks the key up in the service's `idempotency` collection; a record found is the
answer (the body does not run); otherwise the body runs and its result (the response model's
JSON) is stored with the key, a hash of the request (its fingerprint) and `tx.now`. The same key
with another request is a 409 naming `Idempotency-Key`. Two twins sent at once both try to insert
the record under the same `_id`: one transaction fails and is run again, and then finds the
other's result. A failed body stores nothing (its transaction rolled back), so a client may fix
a refused request and send it again under the same key only if the body is unchanged.

Records are kept for a retention (a TTL index on `at`, 7 days by default). A unit of work may
carry its own store as the attribute `idempotency` (the tests' fake does); otherwise records go
to the `idempotency` collection of the unit of work's database."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, TypeAdapter
from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure

from relocation_shared.batch import BatchResult, Outcome, apply_one, parse_rows
from relocation_shared.context import Context
from relocation_shared.errors import Conflict
from relocation_shared.logging import get_logger
from relocation_shared.mongo import Doc
from relocation_shared.outbox import Tx, UnitOfWork

R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)
log = get_logger(__name__)

IDEMPOTENCY = "idempotency"
RETENTION = timedelta(days=7)
FIELD = "Idempotency-Key"
# Twins sent at once: the loser's transaction fails on the record's `_id` and is run again.
ATTEMPTS = 3

Session = AsyncClientSession | None


class IdempotencyStore(Protocol):
    def fingerprint(self, request: Any) -> str: ...

    async def find(self, record_id: str, session: Session) -> Doc | None: ...

    async def insert(self, record: Doc, session: Session) -> None: ...


class MongoIdempotencyStore:
    """`key`: the secret the fingerprints are keyed with (the platform's PII hash key): a body
    holds national ID numbers, whose few digits an unkeyed hash would give away to a guesser."""

    def __init__(self, db: AsyncDatabase[Doc], *, key: bytes = b"") -> None:
        self.coll = db[IDEMPOTENCY]
        self.key = key

    def fingerprint(self, request: Any) -> str:
        return fingerprint(request, key=self.key)

    async def find(self, record_id: str, session: Session) -> Doc | None:
        return await self.coll.find_one({"_id": record_id}, session=session)

    async def insert(self, record: Doc, session: Session) -> None:
        await self.coll.insert_one(record, session=session)


async def ensure_idempotency_indexes(db: AsyncDatabase[Doc], *, retention: timedelta = RETENTION) -> None:
    """The TTL index that forgets keys after `retention` (a server that does not expire TTL
    indexes keeps them: that costs space, never correctness)."""
    seconds = int(retention.total_seconds())
    try:
        await db[IDEMPOTENCY].create_index([("at", ASCENDING)], name="expiry", expireAfterSeconds=seconds)
    except OperationFailure:  # the index exists with another retention: change it in place
        index = {"keyPattern": {"at": 1}, "expireAfterSeconds": seconds}
        await db.command({"collMod": IDEMPOTENCY, "index": index})


def fingerprint(request: Any, *, key: bytes) -> str:
    """A keyed hash of the request as the client sent it (models by their JSON, keys sorted)."""
    if isinstance(request, BaseModel):
        request = request.model_dump(mode="json")
    elif dataclasses.is_dataclass(request) and not isinstance(request, type):
        request = dataclasses.asdict(request)
    text = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def record_id(*, subject: str, scope: str, key: str) -> str:
    return hashlib.sha256("\x1f".join((subject, scope, key)).encode()).hexdigest()


def store_of(uow: UnitOfWork) -> IdempotencyStore:
    own: IdempotencyStore | None = getattr(uow, "idempotency", None)
    return own if own is not None else MongoIdempotencyStore(uow.db)


async def run_once(
    uow: UnitOfWork,
    *,
    ctx: Context,
    scope: str,
    request: Any,
    result_model: Any,
    body: Callable[[Tx], Awaitable[R]],
) -> R:
    """`uow.run(body)`, at most once per (ctx's subject, scope, ctx's key). `scope` names the
    endpoint ("households.batch"); `request` is what the client sent (body and path values);
    `result_model` the type of the body's result (a pydantic model or any type pydantic reads)."""
    key = ctx.idempotency_key
    if key is None:
        return await uow.run(body, correlation_id=ctx.correlation_id)
    adapter: TypeAdapter[R] = TypeAdapter(result_model)
    store = store_of(uow)
    rid = record_id(subject=ctx.principal.subject, scope=scope, key=key)
    digest = store.fingerprint(request)

    async def once(tx: Tx) -> R:
        seen = await store.find(rid, tx.session)
        if seen is not None:
            if seen["fingerprint"] != digest:
                raise Conflict("同一幂等键已用于另一批数据,新的提交请换一个键", field=FIELD)
            log.info("idempotent replay", scope=scope)
            return adapter.validate_json(seen["result"])
        stored = adapter.dump_json(await body(tx)).decode()
        record = {
            "_id": rid,
            "scope": scope,
            "subject": ctx.principal.subject,
            "fingerprint": digest,
            "result": stored,
            "at": tx.now,
        }
        await store.insert(record, tx.session)
        # the first answer is read back from what was stored, so that every repeat equals it
        return adapter.validate_json(stored)

    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await uow.run(once, correlation_id=ctx.correlation_id)
        except DuplicateKeyError:
            if attempt == ATTEMPTS:
                raise
            log.info("idempotency key taken by a concurrent twin, reading its result", scope=scope)
    raise AssertionError("unreachable")


def responding(body: Callable[[Tx], Awaitable[Any]], respond: Callable[[Any], R]) -> Callable[[Tx], Awaitable[R]]:
    """A transaction body whose result is turned into the response inside the transaction, so
    that the response is what `run_once` keeps."""

    async def mapped(tx: Tx) -> R:
        return respond(await body(tx))

    return mapped


# A batch's transaction body: the parsed rows (index, model) applied with the transaction.
ApplyRowsTx = Callable[[list[tuple[int, M]], Tx], Awaitable[Outcome]]


async def _in(apply: ApplyRowsTx[M], tx: Tx, rows: list[tuple[int, M]]) -> Outcome:
    return await apply(rows, tx)


async def apply_many_once(
    uow: UnitOfWork,
    *,
    ctx: Context,
    scope: str,
    rows: list[Any],
    model: type[M],
    apply: ApplyRowsTx[M],
    max_items: int,
) -> BatchResult:
    """`batch.apply_many` at most once per key: rows that do not parse are reported with the
    rest, the others applied in one transaction, the whole answer stored with the key."""
    good, bad = parse_rows(rows, model, max_items=max_items)  # before any transaction: a batch too large opens none

    async def body(tx: Tx) -> BatchResult:
        return (await apply(good, tx)).result(bad)

    return await run_once(uow, ctx=ctx, scope=scope, request=rows, result_model=BatchResult, body=body)


async def apply_one_once(
    uow: UnitOfWork,
    *,
    ctx: Context,
    scope: str,
    data: M,
    apply: ApplyRowsTx[M],
    request: Any = None,
) -> str:
    """`batch.apply_one` at most once per key: the new record's id (the same id on a repeat), or
    the row's error raised (and nothing kept). The caller reads the record by that id."""

    async def body(tx: Tx) -> str:
        return await apply_one(data, partial(_in, apply, tx))

    request = data if request is None else request
    return await run_once(uow, ctx=ctx, scope=scope, request=request, result_model=str, body=body)


__all__ = [
    "IDEMPOTENCY",
    "RETENTION",
    "IdempotencyStore",
    "MongoIdempotencyStore",
    "apply_many_once",
    "apply_one_once",
    "ensure_idempotency_indexes",
    "fingerprint",
    "record_id",
    "responding",
    "run_once",
]
