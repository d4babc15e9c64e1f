"""Reading what really reached the broker, with a plain aiokafka consumer (no group)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from relocation_shared.kafka import ensure_topics, partitions_of


class TopicTap:
    """Remembers a topic's end offsets at creation; `read` returns what arrived after them."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self.partitions: list[TopicPartition] = []

    async def start(self) -> TopicTap:
        await self.consumer.start()
        self.partitions = await partitions_of(self.bootstrap, [self.topic])
        self.consumer.assign(self.partitions)
        ends = await self.consumer.end_offsets(self.partitions)
        for tp in self.partitions:
            self.consumer.seek(tp, ends[tp])
        return self

    async def read(
        self,
        *,
        until: Callable[[list[ConsumerRecord[bytes, bytes]]], bool],
        timeout: float = 10.0,
        settle: float = 0.0,
    ) -> list[ConsumerRecord[bytes, bytes]]:
        """Read until `until(records)` holds (then `settle` seconds more) or the timeout passes."""
        records: list[ConsumerRecord[bytes, bytes]] = []
        deadline = time.monotonic() + timeout
        done_at: float | None = None
        while time.monotonic() < deadline:
            batch = await self.consumer.getmany(timeout_ms=200)
            for recs in batch.values():
                records.extend(recs)
            if done_at is None and until(records):
                done_at = time.monotonic()
            if done_at is not None and time.monotonic() - done_at >= settle:
                break
        return records

    async def stop(self) -> None:
        await self.consumer.stop()


async def wait_for(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(interval)
    raise AssertionError("condition not met in time")


async def start_at_end(bootstrap: str, group: str, topics: list[str]) -> None:
    """A new consumer group starts at the topics' end: a shared broker holds other runs' history,
    which a group reading from the earliest offset would have to wade through first."""
    await ensure_topics(bootstrap, topics, partitions=6, replication=1)
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await c.start()
    try:
        parts = await partitions_of(bootstrap, topics)
        c.assign(parts)
        ends = await c.end_offsets(parts)
        await c.commit({tp: OffsetAndMetadata(off, "") for tp, off in ends.items()})
    finally:
        await c.stop()
