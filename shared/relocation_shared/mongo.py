"""MongoDB through PyMongo's async API, and the unit of work that writes state and outbox together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pymongo import AsyncMongoClient, WriteConcern
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.read_concern import ReadConcern

T = TypeVar("T")
Doc = dict[str, Any]


# Transactions stay short: a commit may take at most this long on the server. What bounds a
# transaction left open by a killed process is the server's lifetime limit
# (`transactionLifetimeLimitSeconds`, 60 s by default in MongoDB; the platform runs with 10 s: see
# deploy/k8s/configmap.yaml and docker-compose.yml), after which its locks are released.
MAX_COMMIT_TIME_MS = 5_000


def make_client(uri: str, *, app_name: str) -> AsyncMongoClient[Doc]:
    return AsyncMongoClient(uri, tz_aware=True, appname=app_name, uuidRepresentation="standard")


async def in_transaction(client: AsyncMongoClient[Doc], fn: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
    """Run `fn` in a multi-document transaction, retried by the driver on transient errors
    (write conflicts, elections). `fn` may run more than once, so it must be free of side
    effects outside the session."""
    async with client.start_session() as session:
        return await session.with_transaction(
            fn,
            read_concern=ReadConcern("snapshot"),
            write_concern=WriteConcern("majority"),
            max_commit_time_ms=MAX_COMMIT_TIME_MS,
        )


async def ping(db: AsyncDatabase[Doc]) -> None:
    await db.command("ping")


# `$in` over many values is answered in time that grows with the square of the list by the
# MongoDB-protocol server of the tests (5,000 ids: 21 s; 50 lists of 100: 0.7 s). Real MongoDB
# does not mind; chunks of this size cost it nothing.
IN_CHUNK = 100


async def find_in(
    coll: AsyncCollection[Doc],
    field: str,
    values: list[Any],
    *,
    projection: Doc | None = None,
    session: AsyncClientSession | None = None,
) -> list[Doc]:
    """Documents whose `field` is one of `values`, asked for in chunks of IN_CHUNK."""
    unique = list(dict.fromkeys(values))
    out: list[Doc] = []
    for i in range(0, len(unique), IN_CHUNK):
        part = unique[i : i + IN_CHUNK]
        out += await coll.find({field: {"$in": part}}, projection, session=session).to_list(None)
    return out
