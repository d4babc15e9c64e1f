"""The one fake unit of work (cosmicpython style).

`FakeUnitOfWork` has the interface of `relocation_shared.outbox.UnitOfWork`: `run(fn,
correlation_id=None)` gives the use case a `Tx` (no session, the clock's instant) and, when it
returns, keeps the events it recorded in `published`; when it raises, the events are dropped and
every fake repository it was given is put back as it was (the transaction's rollback). Each
published event is also serialised and parsed back through the catalog, as the outbox and a
consumer would."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol, TypeVar

from relocation_shared.clock import Clock
from relocation_shared.events import CATALOG, Envelope, EventPayload
from relocation_shared.outbox import Tx
from tests.clock import frozen

T = TypeVar("T")


class Snapshotting(Protocol):
    def snapshot(self) -> Any: ...

    def restore(self, state: Any) -> None: ...


class FakeUnitOfWork:
    """The one fake unit of work: runs a use case against fake repositories; on success their
    writes stay and the events it recorded are 'published' (checked to survive the outbox's
    round trip); on failure every repository is put back as it was. Its clock is the tests'
    pinned one unless a test hands it another."""

    def __init__(
        self, repos: Iterable[Snapshotting] = (), *, producer: str = "test", clock: Clock | None = None
    ) -> None:
        self.repos = list(repos)
        self.producer = producer
        self.clock: Clock = clock or frozen()
        self.published: list[Envelope] = []
        self.runs = 0
        self.rollbacks = 0

    async def run(self, fn: Callable[[Tx], Awaitable[T]], *, correlation_id: str | None = None) -> T:
        self.runs += 1
        states = [r.snapshot() for r in self.repos]
        tx = Tx(session=None, producer=self.producer, correlation_id=correlation_id, now=self.clock())
        try:
            result = await fn(tx)
        except BaseException:
            self.rollbacks += 1
            for repo, state in zip(self.repos, states, strict=True):
                repo.restore(state)
            raise
        for env in tx.events:  # what the outbox stores and a consumer reads back
            parsed, _ = CATALOG.parse(env.to_bytes())
            assert parsed == env
        self.published.extend(tx.events)
        return result

    # reading what was published ----------------------------------------------------------------
    def types(self, aggregate_id: str | None = None) -> list[str]:
        return [e.type for e in self.published if aggregate_id is None or e.aggregate_id == aggregate_id]

    def payloads(self, model: type[EventPayload] | None = None) -> list[Any]:
        out = [CATALOG.payload_of(e) for e in self.published]
        return [p for p in out if model is None or isinstance(p, model)]

    def clear(self) -> None:
        self.published.clear()
