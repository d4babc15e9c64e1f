"""The live consumer: one consumer group over every service topic, folding batch after batch,
its positions taken from the offsets stored with the views."""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from prometheus_client import Gauge
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from readmodel_service.fold.prefetch import Prefetcher
from readmodel_service.fold.repository import FoldStore, GenerationChanged, active_generation, tp_key
from readmodel_service.fold.service import Folder, tune_gc
from relocation_shared.clock import Clock, system_clock
from relocation_shared.logging import get_logger
from relocation_shared.mongo import Doc
from relocation_shared.tasks import cancel

log = get_logger(__name__)

LAG = Gauge("readmodel_consumer_lag", "Messages behind the high-water mark", ["topic", "partition"])


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, owner: ViewConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        for tp in revoked:
            with contextlib.suppress(KeyError):
                LAG.remove(tp.topic, str(tp.partition))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        if self.owner.prefetch is not None:
            self.owner.prefetch.clear()  # fetched before the rebalance, from positions now reset
        await self.owner.seek_stored(assigned)


class ViewConsumer:
    """Consumes every service topic in one group and folds each fetched batch. Positions come
    from the offsets stored with the views (on start, on rebalance, on a generation switch),
    not from Kafka's committed offsets, which are committed too but only for lag monitoring."""

    def __init__(
        self,
        *,
        client: AsyncMongoClient[Doc],
        db: AsyncDatabase[Doc],
        bootstrap: str,
        group_id: str,
        topics: list[str],
        dlq: AIOKafkaProducer,
        batch_max: int = 2000,
        clock: Clock = system_clock,
    ) -> None:
        self.clock = clock
        self.client = client
        self.db = db
        self.bootstrap = bootstrap
        self.group_id = group_id
        self.topics = topics
        self.dlq = dlq
        self.batch_max = batch_max
        self.store = FoldStore(db, 1)
        self.consumer: AIOKafkaConsumer | None = None
        self.task: asyncio.Task[None] | None = None
        self.caught_up = asyncio.Event()
        self.prefetch: Prefetcher | None = None

    async def start(self) -> None:
        tune_gc()
        self.store = FoldStore(self.db, await active_generation(self.db))
        await self.store.ensure_indexes()
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            client_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        await self.consumer.start()
        self.consumer.subscribe(self.topics, listener=_Rebalance(self))
        self.task = asyncio.create_task(self.run(), name="readmodel-consumer")

    async def stop(self) -> None:
        await cancel(self.task)
        if self.consumer is not None:
            await self.consumer.stop()

    async def seek_stored(self, partitions: list[TopicPartition] | set[TopicPartition]) -> None:
        assert self.consumer is not None
        stored = await self.store.stored_offsets()
        for tp in partitions:
            offset = stored.get(tp_key(tp.topic, tp.partition))
            if offset is not None:
                self.consumer.seek(tp, offset)
            elif await self.consumer.committed(tp) is not None:
                # Kafka remembers a position the views do not have (their database was emptied):
                # start over. Without one the fetcher already starts at the beginning (earliest),
                # and a needless reset would have it fetch the first records twice.
                await self.consumer.seek_to_beginning(tp)

    async def run(self) -> None:
        """Fold batch after batch; the next batch is fetched and parsed while the current one's
        transaction waits on the database."""
        assert self.consumer is not None
        folder = Folder(self.client, self.store, dlq=self.dlq, mode="live", clock=self.clock)
        await folder.load()
        self.prefetch = Prefetcher(self.consumer, batch_max=self.batch_max)
        self.prefetch.start()
        try:
            while True:
                positions, batch = await self.prefetch.take()
                if not batch:
                    self.caught_up.set()
                    continue
                while True:
                    try:
                        await folder.fold(batch)
                        break
                    except GenerationChanged:
                        await self.prefetch.stop()  # what it holds was fetched from the old positions
                        self.store = FoldStore(self.db, await active_generation(self.db))
                        folder = Folder(self.client, self.store, dlq=self.dlq, mode="live", clock=self.clock)
                        await folder.load()
                        await self.seek_stored(self.consumer.assignment())
                        self.prefetch.start()
                        log.info("switched to a rebuilt generation", generation=self.store.generation)
                        batch = []
                        break
                    except PyMongoError as exc:  # the database is away: keep the batch, try again
                        log.warning("fold failed, retrying", error=str(exc))
                        await asyncio.sleep(0.5)
                for tp, next_offset in positions.items():
                    high = self.consumer.highwater(tp)
                    if high is not None:
                        LAG.labels(tp.topic, str(tp.partition)).set(max(0, high - next_offset))
                if batch:
                    with contextlib.suppress(Exception):  # informational only: positions live in MongoDB
                        await self.consumer.commit(positions)
        finally:
            await self.prefetch.stop()
