"""The event envelope and the catalog of typed, versioned payloads.

Every event on the bus is an `Envelope` (JSON): id (UUIDv7), type, schema version,
occurred-at, producer, area path, aggregate id, correlation id and a payload. The payload's
shape is fixed per (type, version) by a pydantic model registered in the `Catalog`; an
unknown type, an unknown version or a payload that does not fit is rejected with a reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from relocation_shared.ids import new_id
from relocation_shared.pii import contains_pii


class InvalidEvent(ValueError):
    """A message that is not a well-formed event of a known type; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EventPayload(BaseModel):
    """Base of every payload model. Subclasses are registered with `Catalog.event`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_type: ClassVar[str] = ""
    schema_version: ClassVar[int] = 0


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(default_factory=new_id)
    type: str = Field(min_length=1, max_length=100)
    schema_version: int = Field(ge=1)
    occurred_at: datetime
    producer: str = Field(min_length=1, max_length=50)
    area_path: tuple[str, ...]
    aggregate_id: str = Field(min_length=1, max_length=100)
    correlation_id: str | None = None
    payload: dict[str, Any]

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("occurred_at must carry a time zone")
        return v.astimezone(UTC)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @property
    def key(self) -> bytes:
        """The Kafka message key: the aggregate id, so one aggregate's events stay in order."""
        return self.aggregate_id.encode()


P = TypeVar("P", bound=type[EventPayload])


class Catalog:
    """The registry of event types: (type, version) → payload model, and type → topic."""

    def __init__(self) -> None:
        self._models: dict[tuple[str, int], type[EventPayload]] = {}
        self._topics: dict[str, str] = {}

    def event(self, event_type: str, *, version: int, topic: str) -> Callable[[P], P]:
        def register(model: P) -> P:
            key = (event_type, version)
            if key in self._models:
                raise ValueError(f"event {event_type} v{version} registered twice")
            model.event_type = event_type
            model.schema_version = version
            self._models[key] = model
            self._topics[event_type] = topic
            return model

        return register

    @property
    def types(self) -> list[str]:
        return sorted(self._topics)

    def topic_of(self, event_type: str) -> str:
        try:
            return self._topics[event_type]
        except KeyError:
            raise InvalidEvent(f"unknown event type {event_type!r}") from None

    def topics(self) -> list[str]:
        return sorted(set(self._topics.values()))

    def model_for(self, event_type: str, version: int) -> type[EventPayload]:
        model = self._models.get((event_type, version))
        if model is None:
            if event_type not in self._topics:
                raise InvalidEvent(f"unknown event type {event_type!r}")
            raise InvalidEvent(f"unknown schema version {version} of {event_type}")
        return model

    def envelope(
        self,
        payload: EventPayload,
        *,
        producer: str,
        area_path: tuple[str, ...] | list[str],
        aggregate_id: str,
        occurred_at: datetime,
        correlation_id: str | None = None,
    ) -> Envelope:
        """Wrap a payload. Refuses a payload that carries a raw ID or phone number."""
        model = type(payload)
        self.model_for(model.event_type, model.schema_version)  # must be registered
        data = payload.model_dump(mode="json")
        if contains_pii(json.dumps(_texts(data), ensure_ascii=False)):
            raise InvalidEvent(f"{model.event_type} payload carries a national ID or phone number")
        return Envelope(
            type=model.event_type,
            schema_version=model.schema_version,
            occurred_at=occurred_at,
            producer=producer,
            area_path=tuple(area_path),
            aggregate_id=aggregate_id,
            correlation_id=correlation_id,
            payload=data,
        )

    def parse(self, raw: bytes | str) -> tuple[Envelope, EventPayload]:
        """Decode and validate a message: the envelope, then its payload against its model."""
        try:
            env = Envelope.model_validate_json(raw)
        except ValidationError as exc:
            raise InvalidEvent(f"malformed envelope: {_first_error(exc)}") from exc
        return env, self.payload_of(env)

    def payload_of(self, env: Envelope) -> EventPayload:
        model = self.model_for(env.type, env.schema_version)
        try:
            return model.model_validate(env.payload)
        except ValidationError as exc:
            raise InvalidEvent(f"bad {env.type} v{env.schema_version} payload: {_first_error(exc)}") from exc


def _texts(value: Any) -> list[str]:
    """The keys and string values of a payload. Numbers are amounts and counts, never free text:
    13,600,000,000 fen (1.36亿元) is an amount, not a mobile number."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in (str(k), *_texts(v))]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _texts(v)]
    return []


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "(root)"
    return f"{where}: {err.get('msg')}"
