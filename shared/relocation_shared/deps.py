"""The dependencies every router uses: the service object a lifespan put on `app.state`, the
correlation id of the request and the use-case context (principal and correlation id)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from relocation_shared.auth import CurrentPrincipal
from relocation_shared.context import Context


def from_state(name: str = "service") -> Any:
    """`Annotated[SomeService, from_state()]`: the object the lifespan stored as app.state.<name>."""

    def get(request: Request) -> Any:
        return getattr(request.app.state, name)

    return Depends(get)


def correlation_id(request: Request) -> str | None:
    """The request id (the caller's x-request-id, or the one the middleware gave the request)."""
    return getattr(request.state, "request_id", None) or request.headers.get("x-request-id")


Correlation = Annotated[str | None, Depends(correlation_id)]


def request_context(principal: CurrentPrincipal, cid: Correlation) -> Context:
    return Context(principal=principal, correlation_id=cid)


CurrentContext = Annotated[Context, Depends(request_context)]
