"""The composition root: the live consumer and the query service, built from a started Runtime."""

from __future__ import annotations

from dataclasses import dataclass

from readmodel_service.config import Settings
from readmodel_service.events import CONSUMED_TOPICS
from readmodel_service.fold.consumer import ViewConsumer
from readmodel_service.views.service import ReadModelService
from relocation_shared.runtime import Runtime


@dataclass(frozen=True)
class ReadModel:
    consumer: ViewConsumer
    service: ReadModelService


def build(runtime: Runtime, settings: Settings) -> ReadModel:
    consumer = ViewConsumer(
        client=runtime.client,
        db=runtime.db,
        bootstrap=settings.kafka_bootstrap_servers,
        group_id=settings.consumer_group,
        topics=CONSUMED_TOPICS,
        dlq=runtime.producer,
        batch_max=settings.batch_max_records,
        clock=runtime.clock,
    )
    service = ReadModelService(db=runtime.db, targets=settings.targets, clock=runtime.clock)
    return ReadModel(consumer=consumer, service=service)
