"""Use-case contexts for tests: `ctx(XISHUI)` is the county officer acting with no correlation id."""

from __future__ import annotations

from relocation_shared.auth import Principal
from relocation_shared.context import Context


def ctx(principal: Principal, correlation_id: str | None = None) -> Context:
    return Context(principal=principal, correlation_id=correlation_id)
