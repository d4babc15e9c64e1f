"""What every use case is handed besides its input: who acts and the correlation id that ties
the request, its log lines and the events it records together."""

from __future__ import annotations

from dataclasses import dataclass

from relocation_shared.auth import Principal


@dataclass(frozen=True)
class Context:
    principal: Principal
    correlation_id: str | None = None
