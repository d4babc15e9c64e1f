"""Kafka plumbing: the idempotent producer, topic creation, and the broker readiness probe."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.client import AIOKafkaClient

from relocation_shared.logging import get_logger

log = get_logger(__name__)

TOPIC_ALREADY_EXISTS = 36


def make_producer(bootstrap: str, *, client_id: str) -> AIOKafkaProducer:
    """Idempotent producer: acks from all in-sync replicas, retries never duplicate or reorder."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        request_timeout_ms=15000,
    )


async def ensure_topics(bootstrap: str, topics: list[str], *, partitions: int, replication: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="topic-setup")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if not missing:
            return
        resp = await admin.create_topics(
            [NewTopic(name=t, num_partitions=partitions, replication_factor=replication) for t in missing]
        )
        for topic_error in getattr(resp, "topic_errors", []):
            name, code = topic_error[0], topic_error[1]
            if code not in (0, TOPIC_ALREADY_EXISTS):
                raise RuntimeError(f"cannot create topic {name}: error code {code}")
        log.info("topics created", topics=missing)
    finally:
        await admin.close()


async def broker_reachable(bootstrap: str, *, within: float = 2.0) -> None:
    """A metadata request to the bootstrap servers on a connection of its own, so that a broker
    that went away fails the probe (the producer's cached metadata would stay green); raises
    when no broker answered within `within` seconds."""
    client = AIOKafkaClient(
        bootstrap_servers=bootstrap,
        client_id="readiness",
        request_timeout_ms=int(within * 1000),
    )
    try:
        await asyncio.wait_for(client.bootstrap(), timeout=within)
    finally:
        await client.close()


async def partitions_of(bootstrap: str, topics: list[str]) -> list[TopicPartition]:
    """Every partition of the topics, from a metadata request (a fresh consumer knows none)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="partitions")
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    out = []
    for t in described:
        if t["error_code"] != 0:
            raise RuntimeError(f"topic {t['topic']}: error code {t['error_code']}")
        out += [TopicPartition(t["topic"], p["partition"]) for p in t["partitions"]]
    return sorted(out)
