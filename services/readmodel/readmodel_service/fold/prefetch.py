"""Fetching and parsing ahead: the next batch is read from Kafka while the one before commits."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition

from readmodel_service.fold.parse import Parsed, parse_all
from relocation_shared.tasks import cancel

Positions = dict[TopicPartition, int]  # the next offset after the records handed over, by partition


class Prefetcher:
    """Fetches and parses records ahead, up to a batch, while the batch before is folded (its
    transaction spends much of its time waiting on the database). `take` hands over what is
    buffered: at once when the partitions are caught up (a few records under a light load, so
    views follow within the second); when they are well behind (a backlog, a replay) it lets
    the batch fill first, for a fold costs about the same for 5,000 events as for 50,000 (it
    writes each touched view once), but not for longer than `fill_seconds`."""

    def __init__(
        self, consumer: AIOKafkaConsumer, *, batch_max: int, poll_ms: int = 100, fill_seconds: float = 0.5
    ) -> None:
        self.consumer = consumer
        self.batch_max = batch_max
        self.poll_ms = poll_ms
        self.fill_seconds = fill_seconds
        # behind by this many records in all (the fetcher's own prefetching keeps the high-water
        # marks a little ahead of what was handed over even under a light load): a backlog
        self.backlog = max(1, batch_max // 10)
        self.next: Positions = {}
        self.parsed: list[Parsed] = []
        self.behind: dict[TopicPartition, int] = {}  # by partition, as of its last fetched records
        self.last_poll_empty = False
        self.polled = asyncio.Event()
        self.room = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name="readmodel-prefetch")

    async def stop(self) -> None:
        await cancel(self.task)
        self.task = None
        self.clear()

    def clear(self) -> None:
        self.next = {}
        self.parsed = []
        self.behind = {}
        self.room.set()

    async def _run(self) -> None:
        while True:
            room = self.batch_max - len(self.parsed)
            if room <= 0:
                self.room.clear()
                await self.room.wait()
                continue
            got = await self.consumer.getmany(timeout_ms=self.poll_ms, max_records=room)
            parsed = await parse_all(r for recs in got.values() for r in recs)
            for tp, recs in got.items():  # records and their parsing join the buffer together
                if recs:
                    self.next[tp] = recs[-1].offset + 1
                    high = self.consumer.highwater(tp)
                    if high is not None:
                        self.behind[tp] = max(0, high - self.next[tp])
            self.parsed.extend(parsed)
            self.last_poll_empty = not parsed
            self.polled.set()

    async def take(self) -> tuple[Positions, list[Parsed]]:
        """What is buffered (see the class); if nothing is, what the next poll brings, maybe
        nothing."""
        assert self.task is not None, "start() first"
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        while not self.task.done():
            if len(self.parsed) >= self.batch_max:
                break
            if self.parsed:
                if sum(self.behind.values()) < self.backlog:
                    break
                deadline = deadline or loop.time() + self.fill_seconds
                if loop.time() >= deadline:
                    break
            self.polled.clear()
            waiter = asyncio.ensure_future(self.polled.wait())
            try:
                await asyncio.wait(
                    {waiter, self.task},
                    timeout=None if deadline is None else max(0.0, deadline - loop.time()),
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                waiter.cancel()
            if self.last_poll_empty:
                break  # nothing came: caught up
        if self.task.done():
            self.task.result()  # the fetcher failed: its error is raised here
        positions, parsed = self.next, self.parsed
        self.next, self.parsed = {}, []
        self.room.set()
        return positions, parsed
