"""Records parsed into what the fold reads: the envelope's four fields and the payload model,
or the reason a record is no event (it is dead-lettered)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from aiokafka import ConsumerRecord

from readmodel_service.indicators import EventHead
from relocation_shared.events import CATALOG, EventPayload, InvalidEvent


@dataclass(slots=True, frozen=True)
class Head:
    """The envelope fields the fold reads; the envelope itself (and its payload as a dict, which
    the payload model repeats) is let go at once: half the memory a parsed event holds."""

    id: str
    type: str
    area_path: tuple[str, ...]
    occurred_at: datetime


@dataclass(slots=True)
class Parsed:
    topic: str
    partition: int
    offset: int
    env: EventHead | None
    payload: EventPayload | None
    error: str | None = None
    record: ConsumerRecord[bytes, bytes] | None = None


def parse(record: ConsumerRecord[bytes, bytes]) -> Parsed:
    try:
        env, payload = CATALOG.parse(record.value or b"")
    except InvalidEvent as exc:
        return Parsed(record.topic, record.partition, record.offset, None, None, exc.reason, record)
    head = Head(env.id, env.type, env.area_path, env.occurred_at)
    return Parsed(record.topic, record.partition, record.offset, head, payload)


async def parse_all(records: Iterable[ConsumerRecord[bytes, bytes]]) -> list[Parsed]:
    """Parse records, giving the event loop a turn every hundred (a database round trip of
    the batch before may be waiting for its answer)."""
    out: list[Parsed] = []
    for r in records:
        out.append(parse(r))
        if len(out) % 100 == 0:
            await asyncio.sleep(0)
    return out
