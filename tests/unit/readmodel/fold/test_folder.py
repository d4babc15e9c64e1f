"""Folding batches against the in-memory store: a batch is written with its partitions' next
offsets and its event ids, so a redelivered record (below the stored offset) and a resent event
(a known id at a new offset) change nothing, and a record that is no event is let through."""

from __future__ import annotations

from datetime import date
from typing import cast

from aiokafka.structs import ConsumerRecord
from pymongo import AsyncMongoClient

from readmodel_service.fold.parse import Parsed, parse
from readmodel_service.fold.service import Folder
from relocation_shared.events import CATALOG
from relocation_shared.events.employment import TrainingCompleted
from relocation_shared.mongo import Doc
from tests.clock import frozen
from tests.fakes.readmodel import FakeClient, FakeFoldStore
from tests.unit.readmodel.helpers import PATH, envelope

TOPIC = "relocation.employment"


def trained(n: int) -> TrainingCompleted:
    return TrainingCompleted(
        training_id=f"t{n}",
        resident_id=f"r{n}",
        household_id="h1",
        course="电工",
        hours=8,
        completed_on=date(2025, 3, 1),
        first_training=True,
    )


def records(payloads: list[TrainingCompleted], first_offset: int, partition: int = 0) -> list[Parsed]:
    out = []
    for i, p in enumerate(payloads):
        e = envelope(p)
        out.append(Parsed(TOPIC, partition, first_offset + i, e, CATALOG.payload_of(e)))
    return out


def folder(store: FakeFoldStore | None = None) -> tuple[Folder, FakeFoldStore]:
    """A live folder over `store` (a new empty one by default), its transactions the fake client's."""
    store = FakeFoldStore() if store is None else store
    client = cast("AsyncMongoClient[Doc]", FakeClient(store))
    return Folder(client, store, dlq=None, mode="live", clock=frozen()), store


async def test_a_batch_is_written_with_its_next_offsets_and_its_ids() -> None:
    f, store = folder()
    plan = await f.fold(records([trained(1), trained(2)], 0))
    assert plan.folded == 2 and plan.duplicates == 0
    assert store.data["offsets"] == {f"{TOPIC}:0": {"_id": f"{TOPIC}:0", "next": 2}}
    seen = store.data["seen"][f"{TOPIC}:0@0"]
    assert seen["n"] == 2 and seen["first"] == 0 and seen["next"] == 2
    assert store.data["views"]["520330"]["counters"]["trained_persons"] == 2
    assert store.data["views"][PATH[4]]["sub"][PATH[6]]["counters"]["training_person_times"] == 2


async def test_a_redelivered_batch_and_a_resent_event_change_nothing() -> None:
    f, store = folder()
    batch = records([trained(1), trained(2)], 0)
    await f.fold(batch)
    again = await f.fold(batch)  # redelivered: below the stored offset
    assert again.folded == 0
    resent = [Parsed(TOPIC, 0, 5 + i, p.env, p.payload) for i, p in enumerate(batch)]  # the relay sent them again
    plan = await f.fold(resent)
    assert plan.folded == 0 and plan.duplicates == 2
    assert store.data["views"]["520330"]["counters"]["trained_persons"] == 2
    assert store.data["offsets"][f"{TOPIC}:0"]["next"] == 7


async def test_an_instance_that_starts_later_knows_what_another_folded() -> None:
    a, store = folder()
    [first] = records([trained(1)], 0)
    await a.fold([first])
    b, _ = folder(store)
    await b.load()
    resent = [Parsed(TOPIC, 1, 3, first.env, first.payload)]  # the same event on another partition
    plan = await b.fold(resent)
    assert plan.folded == 0 and plan.duplicates == 1


async def test_a_record_that_is_no_event_is_let_through() -> None:
    f, store = folder()
    bad = parse(ConsumerRecord(TOPIC, 0, 0, 0, 0, b"k", b"not json", None, 1, 8, []))
    assert bad.env is None and bad.error
    plan = await f.fold([bad, *records([trained(1)], 1)])
    assert plan.folded == 1
    assert store.data["offsets"][f"{TOPIC}:0"]["next"] == 2
