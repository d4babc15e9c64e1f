"""Idempotency keys: a transaction body runs at most once per (subject, scope, key); a repeat gets
the first answer, the same key with another request is a 409 naming `Idempotency-Key`, a failed
body keeps nothing, a twin that lost the race reads the winner's answer; no key, no change."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import BaseModel

from relocation_shared.batch import Input
from relocation_shared.context import Context
from relocation_shared.errors import Conflict, InvalidInput
from relocation_shared.idempotency import apply_many_once, fingerprint, record_id, run_once
from relocation_shared.mongo import Doc
from relocation_shared.outbox import Tx
from tests.clock import NOW
from tests.context import ctx
from tests.fakes.idempotency import FakeIdempotencyStore, idempotent
from tests.fakes.uow import FakeUnitOfWork
from tests.unit.governance.registry.world import XISHUI, World, bare_world, household_in

PII_KEY = b"test-pii-key"  # the fake store's (tests/fakes/idempotency.py)

KEY = "batch-2026-03-02:0001"


class Made(BaseModel):
    id: str
    n: int


class Row(Input):
    n: int


class Body:
    """A transaction body that counts its runs and answers with a new id each time."""

    def __init__(self) -> None:
        self.runs = 0

    async def __call__(self, tx: Tx) -> Made:
        self.runs += 1
        return Made(id=f"m-{self.runs}", n=self.runs)


def keyed(key: str | None = KEY) -> Context:
    return replace(ctx(XISHUI, "req-1"), idempotency_key=key)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def store(uow: FakeUnitOfWork) -> FakeIdempotencyStore:
    return idempotent(uow)


async def once(uow: FakeUnitOfWork, body: Body, *, c: Context | None = None, request: object = None) -> Made:
    return await run_once(
        uow,  # type: ignore[arg-type]
        ctx=c or keyed(),
        scope="things.create",
        request={"a": 1} if request is None else request,
        result_model=Made,
        body=body,
    )


async def test_a_repeat_with_the_key_gets_the_first_answer_and_the_body_runs_once(
    uow: FakeUnitOfWork, store: FakeIdempotencyStore
) -> None:
    body = Body()
    first = await once(uow, body)
    again = await once(uow, body)
    assert body.runs == 1 and again == first == Made(id="m-1", n=1)
    (record,) = store.records
    assert record["_id"] == record_id(subject=XISHUI.subject, scope="things.create", key=KEY)
    assert record["fingerprint"] == fingerprint({"a": 1}, key=PII_KEY) and record["at"] == NOW
    assert Made.model_validate_json(record["result"]) == first


async def test_the_same_key_with_another_request_is_a_conflict_naming_the_header(
    uow: FakeUnitOfWork, store: FakeIdempotencyStore
) -> None:
    body = Body()
    await once(uow, body)
    with pytest.raises(Conflict) as exc:
        await once(uow, body, request={"a": 2})
    assert exc.value.field == "Idempotency-Key" and "幂等键" in exc.value.message
    assert body.runs == 1 and len(store.records) == 1


async def test_without_a_key_every_call_runs_and_nothing_is_kept(
    uow: FakeUnitOfWork, store: FakeIdempotencyStore
) -> None:
    body = Body()
    assert await once(uow, body, c=keyed(None)) != await once(uow, body, c=keyed(None))
    assert body.runs == 2 and store.records == []


async def test_keys_are_kept_per_subject_and_per_scope(uow: FakeUnitOfWork, store: FakeIdempotencyStore) -> None:
    body = Body()
    mine = await once(uow, body)
    someone = XISHUI.model_copy(update={"subject": "county_officer-2"})
    theirs = await once(uow, body, c=replace(ctx(someone), idempotency_key=KEY))
    other = await run_once(uow, ctx=keyed(), scope="other.create", request={"a": 1}, result_model=Made, body=body)  # type: ignore[arg-type]
    assert [mine.n, theirs.n, other.n] == [1, 2, 3] and len(store.records) == 3


async def test_a_failed_body_keeps_no_record_so_the_repeat_runs_it_again(
    uow: FakeUnitOfWork, store: FakeIdempotencyStore
) -> None:
    calls = 0

    async def flaky(tx: Tx) -> Made:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise InvalidInput("暂时不行", field="n")
        return Made(id="ok", n=calls)

    with pytest.raises(InvalidInput):
        await once(uow, flaky)  # type: ignore[arg-type]
    assert store.records == [] and uow.rollbacks == 1
    assert await once(uow, flaky) == Made(id="ok", n=2)  # type: ignore[arg-type]


class RacedStore(FakeIdempotencyStore):
    """A twin commits its record between this transaction's look-up and its insert, once."""

    def __init__(self, twin: Doc) -> None:
        super().__init__()
        self.twin: Doc | None = twin
        self.committed: list[Doc] = []

    async def find(self, record_id: str, session: object) -> Doc | None:
        found = await super().find(record_id, None)
        if self.twin is not None:
            self._insert("idempotency", self.twin)
            self.committed.append(self.twin)
            self.twin = None
        return found

    def restore(self, state: dict[str, dict[str, Doc]]) -> None:
        super().restore(state)  # this transaction's writes are undone, the twin's commit stays
        for doc in self.committed:
            self.data["idempotency"].setdefault(doc["_id"], doc)


async def test_a_twin_that_loses_the_race_answers_with_the_winner_s_result(uow: FakeUnitOfWork) -> None:
    winner = Made(id="winner", n=0)
    twin = {
        "_id": record_id(subject=XISHUI.subject, scope="things.create", key=KEY),
        "fingerprint": fingerprint({"a": 1}, key=PII_KEY),
        "result": winner.model_dump_json(),
        "at": NOW,
    }
    store = idempotent(uow, RacedStore(twin))
    body = Body()
    assert await once(uow, body) == winner
    assert body.runs == 1 and uow.rollbacks == 1 and len(store.records) == 1  # its own run was rolled back


async def test_a_batch_answer_is_stored_whole_with_its_unparsable_rows(
    uow: FakeUnitOfWork, store: FakeIdempotencyStore
) -> None:
    applied: list[list[int]] = []

    async def apply(rows: list[tuple[int, Row]], tx: Tx):  # type: ignore[no-untyped-def]
        from relocation_shared.batch import Outcome

        applied.append([i for i, _ in rows])
        outcome = Outcome()
        for i, row in rows:
            outcome.accept(i, f"id-{row.n}")
        return outcome

    rows = [{"n": 1}, {"n": "x"}, {"n": 3}]
    first = await apply_many_once(uow, ctx=keyed(), scope="rows.batch", rows=rows, model=Row, apply=apply, max_items=5)  # type: ignore[arg-type]
    again = await apply_many_once(uow, ctx=keyed(), scope="rows.batch", rows=rows, model=Row, apply=apply, max_items=5)  # type: ignore[arg-type]
    assert again == first and applied == [[0, 2]]
    assert [a.id for a in first.accepted] == ["id-1", "id-3"] and [r.index for r in first.rejected] == [1]


def test_the_fingerprint_ignores_key_order_and_tells_values_apart() -> None:
    assert fingerprint({"a": 1, "b": [1, 2]}, key=PII_KEY) == fingerprint({"b": [1, 2], "a": 1}, key=PII_KEY)
    assert fingerprint({"a": 1}, key=PII_KEY) != fingerprint({"a": "1"}, key=PII_KEY)
    # keyed: without the platform's secret, a guessed body (an ID number's few digits) cannot be checked
    assert fingerprint({"a": 1}, key=PII_KEY) != fingerprint({"a": 1}, key=b"another-key")
    assert fingerprint(Made(id="x", n=1), key=PII_KEY) == fingerprint({"n": 1, "id": "x"}, key=PII_KEY)


# --- through the registry's use cases ----------------------------------------------------------------


@pytest.fixture
async def world(tmp_path: Path) -> World:
    w = bare_world(tmp_path)
    await w.svc.load_areas(path=w.area_file)
    w.uow.clear()
    idempotent(w.uow)
    return w


async def test_a_household_batch_sent_twice_with_one_key_registers_each_household_once(world: World) -> None:
    rows = [household_in(room=f"3-{n}").model_dump(mode="json", exclude_none=True) for n in range(3)]
    first = await world.svc.register_households_batch(ctx=keyed(), rows=rows)
    again = await world.svc.register_households_batch(ctx=keyed(), rows=rows)
    assert again == first and len(first.accepted) == 3
    assert len(world.repo.data["households"]) == 3 and len(world.uow.published) == 3
    with pytest.raises(Conflict):
        await world.svc.register_households_batch(ctx=keyed(), rows=rows[:2])
    await world.svc.register_households_batch(ctx=keyed(None), rows=rows)  # no key: as before
    assert len(world.repo.data["households"]) == 6


async def test_one_household_sent_twice_with_one_key_is_one_household(world: World) -> None:
    first = await world.svc.register_household(ctx=keyed(), data=household_in())
    again = await world.svc.register_household(ctx=keyed(), data=household_in())
    assert again == first and list(world.repo.data["households"]) == [first.id]
