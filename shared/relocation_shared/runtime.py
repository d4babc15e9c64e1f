"""What a service holds for its lifetime: the MongoDB client, the idempotent producer, the
unit of work, the outbox relay and its consumers. Each service's main.py builds one in its
lifespan; this keeps start-up and shut-down order the same everywhere."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import uvicorn
from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, FastAPI
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from relocation_shared.auth import TokenVerifier
from relocation_shared.clock import Clock, system_clock
from relocation_shared.consumer import EventConsumer, Handler
from relocation_shared.events import CATALOG
from relocation_shared.idempotency import MongoIdempotencyStore
from relocation_shared.kafka import broker_reachable, ensure_topics, make_producer
from relocation_shared.logging import configure_logging, get_logger
from relocation_shared.mongo import Doc, make_client, ping
from relocation_shared.outbox import OutboxRelay, UnitOfWork, ensure_outbox_indexes
from relocation_shared.settings import ServiceSettings
from relocation_shared.topics import DEAD_LETTER
from relocation_shared.web import ReadinessCheck, health_router, install

log = get_logger(__name__)


class Runtime:
    def __init__(self, settings: ServiceSettings, *, clock: Clock = system_clock) -> None:
        self.settings = settings
        self.clock = clock
        self.client: AsyncMongoClient[Doc] = make_client(settings.mongodb_uri, app_name=settings.service_name)
        self.db: AsyncDatabase[Doc] = self.client[settings.mongodb_database]
        self.producer: AIOKafkaProducer = make_producer(
            settings.kafka_bootstrap_servers, client_id=settings.service_name
        )
        self.uow = UnitOfWork(self.client, self.db, producer=settings.service_name, clock=clock)
        self.uow.idempotency = MongoIdempotencyStore(self.db, key=settings.pii_hash_key.get_secret_value().encode())
        self.relay = OutboxRelay(
            db=self.db,
            producer=self.producer,
            service=settings.service_name,
            wake=self.uow.committed,
            poll_seconds=settings.outbox_poll_seconds,
            batch_size=settings.outbox_batch_size,
            clock=clock,
        )
        self.consumers: list[EventConsumer] = []
        self._checks = self._make_checks()

    def consume(self, *, group_id: str, topics: list[str], handlers: dict[str, Handler]) -> EventConsumer:
        unknown = set(handlers) - set(CATALOG.types)
        if unknown:
            raise ValueError(f"handlers for unknown event types: {sorted(unknown)}")
        consumer = EventConsumer(
            group_id=group_id,
            topics=topics,
            bootstrap=self.settings.kafka_bootstrap_servers,
            uow=self.uow,
            handlers=handlers,
            dlq_producer=self.producer,
        )
        self.consumers.append(consumer)
        return consumer

    async def start(self, *, indexes: Callable[[AsyncDatabase[Doc]], Awaitable[None]] | None = None) -> None:
        s = self.settings
        await ping(self.db)
        await ensure_outbox_indexes(self.db)
        if indexes is not None:
            await indexes(self.db)
        if s.kafka_create_topics:
            await ensure_topics(
                s.kafka_bootstrap_servers,
                [*CATALOG.topics(), DEAD_LETTER],
                partitions=s.kafka_topic_partitions,
                replication=s.kafka_replication_factor,
            )
        await self.producer.start()
        self.relay.start()
        for c in self.consumers:
            await c.start()
        log.info("service started", port=s.port)

    async def stop(self) -> None:
        for c in self.consumers:
            await c.stop()
        await self.relay.stop()
        await self.producer.stop()
        await self.client.close()

    def readiness(self) -> dict[str, ReadinessCheck]:
        """Probes of the real dependencies, each answered from a ~1 s cache so that frequent
        probes (several replicas, an orchestrator and a load balancer) do not hammer them."""
        return self._checks

    def _make_checks(self) -> dict[str, ReadinessCheck]:
        timeout = READINESS_TIMEOUT_SECONDS

        async def mongo() -> None:
            await asyncio.wait_for(ping(self.db), timeout=timeout)

        async def kafka() -> None:
            await broker_reachable(self.settings.kafka_bootstrap_servers, within=timeout)

        return {"mongodb": cached(mongo), "kafka": cached(kafka)}


READINESS_TIMEOUT_SECONDS = 2.0
READINESS_CACHE_SECONDS = 1.0


def cached(check: ReadinessCheck, seconds: float = READINESS_CACHE_SECONDS) -> ReadinessCheck:
    """`check`, run at most once per `seconds`: callers in between get its last outcome (or
    exception); concurrent callers share one run."""
    last: list[Any] = [None, None]  # monotonic time of the outcome, the exception or None
    lock = asyncio.Lock()

    async def run() -> None:
        async with lock:
            if last[0] is None or time.monotonic() - last[0] >= seconds:
                try:
                    await check()
                    last[1] = None
                except Exception as exc:
                    last[1] = exc
                last[0] = time.monotonic()
        if last[1] is not None:
            raise last[1]

    return run


def verifier_from(settings: ServiceSettings) -> TokenVerifier:
    return TokenVerifier(
        secret=settings.jwt_secret.get_secret_value() if settings.jwt_secret else None,
        public_key=settings.jwt_public_key,
        jwks_url=settings.jwt_jwks_url,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )


def base_app(settings: ServiceSettings, *, title: str, description: str, lifespan: Any) -> FastAPI:
    """A FastAPI app with the shared middleware and error handlers; health routes are added by
    `add_health` once the runtime exists."""
    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.verifier = verifier_from(settings)
    install(app, max_body_bytes=settings.max_body_bytes)

    def checks() -> dict[str, ReadinessCheck]:
        runtime: Runtime | None = getattr(app.state, "runtime", None)
        if runtime is None:
            return {"startup": _not_started}
        return runtime.readiness()

    app.include_router(health_router(checks))
    return app


async def _not_started() -> None:
    raise RuntimeError("starting")


def serve(app: FastAPI, settings: ServiceSettings, **options: Any) -> None:
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False, **options)


# What a service adds to its runtime for the app's lifetime: builds its parts, starts them (the
# runtime too: `runtime.start(indexes=...)`), yields what the routers find on `app.state`, and
# stops its own parts when the app stops. The runtime itself is stopped by `service_app`.
Parts = Callable[[Runtime], AbstractAsyncContextManager[dict[str, Any]]]


def service_app(
    settings: ServiceSettings,
    *,
    clock: Clock,
    title: str,
    description: str,
    routers: Iterable[APIRouter],
    parts: Parts,
) -> FastAPI:
    """A service's app: the shared middleware and health routes, its routers, and a lifespan that
    holds one `Runtime` and the service's parts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings, clock=clock)
        app.state.runtime = runtime
        try:
            async with parts(runtime) as state:
                for name, value in state.items():
                    setattr(app.state, name, value)
                yield
        finally:
            await runtime.stop()

    app = base_app(settings, title=title, description=description, lifespan=lifespan)
    for router in routers:
        app.include_router(router)
    return app


def run_service(create_app: Callable[[Any], FastAPI], settings: ServiceSettings, **options: Any) -> None:
    """The console entry point's body: JSON logs, then the app under uvicorn."""
    configure_logging(settings.service_name, settings.log_level)
    serve(create_app(settings), settings, **options)
