"""Kafka plumbing: the idempotent producer, topic creation, and the broker readiness probe."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

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


async def kafka_ready(producer: AIOKafkaProducer, topic: str) -> bool:
    """A metadata round trip to the broker for one of our topics."""
    parts = await producer.partitions_for(topic)
    return bool(parts)


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
