"""The dependencies every router uses: the service object a lifespan put on `app.state`, the
correlation id of the request and the use-case context (principal and correlation id)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request

from relocation_shared.auth import CurrentPrincipal
from relocation_shared.context import Context


def from_state(name: str = "service") -> Any:
    """`Annotated[SomeService, from_state("community.visits")]`: the object the lifespan stored
    on app.state under that name (a dotted name reads an attribute of one)."""
    first, *rest = name.split(".")

    def get(request: Request) -> Any:
        value = getattr(request.app.state, first)
        for attr in rest:
            value = getattr(value, attr)
        return value

    return Depends(get)


def correlation_id(request: Request) -> str | None:
    """The request id (the caller's x-request-id, or the one the middleware gave the request)."""
    return getattr(request.state, "request_id", None) or request.headers.get("x-request-id")


Correlation = Annotated[str | None, Depends(correlation_id)]


def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=8,
            max_length=128,
            pattern=r"^[A-Za-z0-9._:-]+$",
            description="客户端为这次写入生成的唯一键:响应丢失后用同一个键重发,返回第一次的结果,不会重复登记",
        ),
    ] = None,
) -> str | None:
    return key


def request_context(principal: CurrentPrincipal, cid: Correlation) -> Context:
    return Context(principal=principal, correlation_id=cid)


def idempotent_context(
    principal: CurrentPrincipal, cid: Correlation, key: Annotated[str | None, Depends(idempotency_key)]
) -> Context:
    return Context(principal=principal, correlation_id=cid, idempotency_key=key)


CurrentContext = Annotated[Context, Depends(request_context)]
# For writes that create records: the context carries the caller's Idempotency-Key, if any.
IdempotentContext = Annotated[Context, Depends(idempotent_context)]


# Query parameters every list endpoint takes, described once.
AreaQuery = Annotated[str, Query(max_length=30, description="区域代码")]
AfterQuery = Annotated[str | None, Query(max_length=64, description="上一页最后一条的 id(翻页)")]
LimitQuery = Annotated[int, Query(ge=1, le=500, description="每页条数")]
