"""The read model's prefetcher against a fake consumer: it hands over at once what a light load
brings, lets a batch fill under a backlog, and raises what the fetch raised."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from aiokafka.structs import ConsumerRecord, TopicPartition

from readmodel_service.fold.prefetch import Prefetcher
from relocation_shared.events import CATALOG
from relocation_shared.events.employment import TrainingCompleted

TP = TopicPartition("relocation.employment", 0)
PATH = ("520000", "520300", "520330", "520330001000", "520330001001")


def record(offset: int) -> ConsumerRecord[bytes, bytes]:
    payload = TrainingCompleted(
        training_id=f"t{offset}",
        resident_id="r1",
        household_id="h1",
        course="电工",
        hours=8,
        completed_on=date(2025, 3, 1),
        first_training=False,
    )
    env = CATALOG.envelope(
        payload, producer="t", area_path=PATH, aggregate_id="h1", occurred_at=datetime(2025, 3, 1, tzinfo=UTC)
    )
    value = env.to_bytes()
    return ConsumerRecord(TP.topic, TP.partition, offset, 0, 0, b"h1", value, None, 2, len(value), [])


class FakeConsumer:
    """Serves `chunks` one getmany at a time (then nothing), with a high-water mark `high`."""

    def __init__(self, chunks: list[list[int]], *, high: int, fail: Exception | None = None) -> None:
        self.chunks = chunks
        self.high = high
        self.fail = fail
        self.answered = 0  # polls completed
        self.answered_at_take = 0  # polls completed when the first batch was handed over

    async def getmany(self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None):
        await asyncio.sleep(0.001)
        if self.fail is not None:
            raise self.fail
        if not self.chunks:
            await asyncio.sleep(timeout_ms / 1000)
            self.answered += 1
            return {}
        offsets = self.chunks.pop(0)
        assert max_records is None or len(offsets) <= max_records
        self.answered += 1
        return {TP: [record(o) for o in offsets]}

    def highwater(self, tp: TopicPartition) -> int:
        return self.high


async def taken(consumer: FakeConsumer, *, batch_max: int, fill_seconds: float = 5.0) -> tuple[list[int], dict]:
    prefetch = Prefetcher(consumer, batch_max=batch_max, poll_ms=200, fill_seconds=fill_seconds)
    prefetch.start()
    try:
        positions, parsed = await asyncio.wait_for(prefetch.take(), timeout=3)
        consumer.answered_at_take = consumer.answered
    finally:
        await prefetch.stop()
    return [p.offset for p in parsed], positions


async def test_a_light_load_is_handed_over_at_once() -> None:
    # three records, the high-water mark two ahead (the fetcher's next fetch): not a backlog
    consumer = FakeConsumer([[0, 1, 2]], high=5)
    offsets, positions = await taken(consumer, batch_max=100)
    assert offsets == [0, 1, 2]
    assert positions == {TP: 3}
    assert consumer.answered_at_take == 1  # handed over without waiting for the next poll


async def test_a_backlog_fills_the_batch_before_it_is_handed_over() -> None:
    chunks = [list(range(i, i + 10)) for i in range(0, 100, 10)]
    consumer = FakeConsumer(chunks, high=1000)
    offsets, positions = await taken(consumer, batch_max=40)
    assert offsets == list(range(40))
    assert positions == {TP: 40}


async def test_a_backlog_that_stops_coming_is_handed_over_when_the_polls_come_back_empty() -> None:
    consumer = FakeConsumer([[0, 1], [2, 3]], high=1000)  # the broker claims more, none arrives
    offsets, _ = await taken(consumer, batch_max=100)
    assert offsets == [0, 1, 2, 3]


async def test_nothing_to_fetch_gives_an_empty_batch() -> None:
    offsets, positions = await taken(FakeConsumer([], high=0), batch_max=10)
    assert offsets == [] and positions == {}


async def test_a_failing_fetch_is_raised_by_take() -> None:
    with pytest.raises(ConnectionError):
        await taken(FakeConsumer([], high=0, fail=ConnectionError("broker away")), batch_max=10)
