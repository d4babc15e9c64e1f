"""What every use case is handed besides its input: who acts, the correlation id that ties the
request, its log lines and the events it records together, and the caller's idempotency key (the
`Idempotency-Key` header) for writes that must not happen twice when a client sends again."""

from __future__ import annotations

from dataclasses import dataclass

from relocation_shared.auth import Principal


@dataclass(frozen=True)
class Context:
    principal: Principal
    correlation_id: str | None = None
    idempotency_key: str | None = None
