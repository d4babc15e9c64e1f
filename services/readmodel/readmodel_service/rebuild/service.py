"""`readmodel-service rebuild`: replay every topic from the beginning into a fresh generation
and, once it has caught up with the end offsets taken at the start, switch over to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from readmodel_service.fold.prefetch import Prefetcher
from readmodel_service.fold.repository import FoldStore, tp_key
from readmodel_service.fold.service import Folder, tune_gc
from readmodel_service.rebuild.repository import next_generation, set_active_generation
from relocation_shared.clock import Clock, system_clock
from relocation_shared.kafka import partitions_of
from relocation_shared.mongo import Doc, in_transaction

Progress = Callable[[int, int], None]


@dataclass
class Replay:
    """The partitions replayed, from their beginning to the end offsets taken at the start."""

    partitions: list[TopicPartition]
    begins: dict[TopicPartition, int]
    ends: dict[TopicPartition, int]

    @property
    def total(self) -> int:
        return sum(self.ends[tp] - self.begins[tp] for tp in self.partitions)


async def rebuild(
    *,
    client: AsyncMongoClient[Doc],
    db: AsyncDatabase[Doc],
    bootstrap: str,
    topics: list[str],
    batch_max: int = 50_000,
    progress: Progress | None = None,
    switch: bool = True,
    clock: Clock = system_clock,
) -> int:
    """Replay every topic from the beginning into a fresh generation and, once it has caught up
    with the end offsets taken at the start, make it the active one. Returns its number."""
    tune_gc()
    generation = await next_generation(db)
    store = FoldStore(db, generation)
    await store.drop()
    await store.ensure_indexes()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    try:
        replay = await _start_replay(consumer, bootstrap, topics)
        folder = Folder(client, store, dlq=None, mode="rebuild", check_active=False, clock=clock)
        await _replay(consumer, folder, replay, batch_max=batch_max, progress=progress)
        await in_transaction(client, lambda session: _finish(store, replay, session, switch=switch, clock=clock))
    finally:
        await consumer.stop()
    if switch:
        for old in range(1, generation - 1):  # keep the previous generation for comparison
            await FoldStore(db, old).drop()
    return generation


async def _start_replay(consumer: AIOKafkaConsumer, bootstrap: str, topics: list[str]) -> Replay:
    partitions = await partitions_of(bootstrap, topics)
    consumer.assign(partitions)
    begins = await consumer.beginning_offsets(partitions)
    ends = await consumer.end_offsets(partitions)
    for tp in partitions:
        consumer.seek(tp, begins[tp])
    return Replay(partitions, begins, ends)


async def _replay(
    consumer: AIOKafkaConsumer, folder: Folder, replay: Replay, *, batch_max: int, progress: Progress | None
) -> None:
    """Fold every partition up to its end offset; the next batch is fetched and parsed while the
    current one's transaction waits."""
    begins, ends, total, done = replay.begins, replay.ends, replay.total, 0
    remaining = {tp for tp in replay.partitions if ends[tp] > begins[tp]}
    consumer.pause(*(set(replay.partitions) - remaining))
    positions = {tp: begins[tp] for tp in replay.partitions}
    prefetch = Prefetcher(consumer, batch_max=batch_max, poll_ms=500)
    prefetch.start()
    try:
        while remaining:
            next_offsets, parsed = await prefetch.take()
            batch = [p for p in parsed if p.offset < ends[TopicPartition(p.topic, p.partition)]]
            for tp, next_offset in next_offsets.items():
                positions[tp] = max(positions[tp], next_offset)
                if positions[tp] >= ends[tp] and tp in remaining:
                    remaining.discard(tp)
                    consumer.pause(tp)  # what comes after the rebuild started is the live consumer's
                    prefetch.behind.pop(tp, None)
            if batch:
                await folder.fold(batch)
                done += len(batch)
                if progress:
                    progress(done, total)
    finally:
        await prefetch.stop()


async def _finish(store: FoldStore, replay: Replay, session: AsyncClientSession, *, switch: bool, clock: Clock) -> None:
    """The last transaction: the end offsets for the live consumer and, if asked, the switch."""
    await store.write_offsets({tp_key(tp.topic, tp.partition): replay.ends[tp] for tp in replay.partitions}, session)
    if switch:
        await set_active_generation(store.db, generation=store.generation, session=session, now=clock())
