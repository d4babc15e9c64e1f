"""Web plumbing every service shares: request ids and access logs, a body-size limit, errors
as clear JSON naming the field (in Chinese, for the people who read them), /healthz, /readyz
and /metrics."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from relocation_shared.errors import DomainError
from relocation_shared.ids import new_id
from relocation_shared.logging import get_logger
from relocation_shared.pii import scrub

log = get_logger("http")

REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("http_request_seconds", "HTTP request latency", ["method", "route"])

ReadinessCheck = Callable[[], Awaitable[None]]

_MESSAGES = {
    "missing": "缺少必填字段",
    "json_invalid": "JSON 格式错误",
    "string_too_long": "内容过长",
    "string_too_short": "内容过短或为空",
    "greater_than_equal": "数值过小",
    "greater_than": "数值过小",
    "less_than_equal": "数值过大",
    "less_than": "数值过大",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不在允许范围内",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文本",
    "extra_forbidden": "不允许的字段",
    "model_type": "应为 JSON 对象",
    "list_type": "应为列表",
    "too_long": "条目过多",
    "too_short": "条目过少",
    "value_error": "取值无效",
}


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def validation_errors(errors: list[Any]) -> list[dict[str, str]]:
    out = []
    for err in errors:
        kind = err.get("type", "")
        msg = _MESSAGES.get(kind, "取值无效")
        if kind == "value_error":
            detail = str(err.get("ctx", {}).get("error", "")) or err.get("msg", "")
            msg = scrub(detail) or msg
        # a JSON syntax error's location is a byte offset into the body, not a field
        field = "body" if kind == "json_invalid" else _field(err.get("loc", ()))
        out.append({"field": field, "message": msg})
    return out


def error_body(code: str, message: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "message": message}
    if field:
        body["field"] = field
    body.update(extra)
    return body


# The framework's own HTTP errors (no route, wrong method...), in the platform's words.
_STATUS_ERRORS = {
    400: ("bad_request", "请求无效"),
    404: ("not_found", "请求的接口不存在"),
    405: ("method_not_allowed", "该接口不支持此请求方法"),
    406: ("not_acceptable", "无法提供所请求的内容格式"),
    415: ("unsupported_media_type", "不支持的内容类型"),
}


# FastAPI's HTTP 400 when reading the body failed otherwise than as a JSON syntax error.
_BODY_UNREADABLE = "There was an error parsing the body"


def _unreadable_body(exc: HTTPException) -> str | None:
    """Why the framework could not read a body as JSON (the exception behind its HTTP 400)."""
    if exc.status_code != 400 or exc.detail != _BODY_UNREADABLE:
        return None
    cause = exc.__cause__
    if isinstance(cause, UnicodeDecodeError):
        return "请求体应为 UTF-8 编码的文本"
    if isinstance(cause, RecursionError):
        return "JSON 嵌套层数过多"
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return "数字位数过多"  # Python's limit on integer string conversion (4,300 digits)
    return "请求体无法解析"


def _invalid_response(errors: list[dict[str, str]]) -> JSONResponse:
    first = errors[0] if errors else {"field": "body", "message": "请求无效"}
    return JSONResponse(
        error_body("invalid", f"{first['field']}: {first['message']}", first["field"], errors=errors),
        status_code=422,
    )


async def _http_error(_request: Request, exc: Exception) -> Response:
    """Starlette's and FastAPI's HTTPException (unknown route, wrong method, a body that could not
    be read) in the platform's error shape instead of {"detail": ...}; their headers (Allow) kept."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if reason := _unreadable_body(exc):
        return _invalid_response([{"field": "body", "message": reason}])
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=headers)
    code, message = _STATUS_ERRORS.get(exc.status_code, ("error", "请求无法处理"))
    return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=headers)


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _invalid_response(validation_errors(list(exc.errors())))


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    return JSONResponse(
        error_body(exc.code, exc.message, exc.field, **{k: str(v) for k, v in exc.context.items()}),
        status_code=exc.status_code,
        headers=headers,
    )


def _internal_error(request_id: str) -> JSONResponse:
    """An unexpected exception: the platform's error shape with the request id to quote."""
    body = error_body("internal", "服务器内部错误,请稍后重试(报告问题时请提供请求编号)", request_id=request_id)
    return JSONResponse(body, status_code=500)


class BodyLimit:
    """Refuses bodies over `max_bytes` with 413: at once when Content-Length says so, and while
    streaming a body sent without one (chunked), counting what arrives. The framework turns the
    interrupted read into its own error response, which is replaced here by the 413."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._too_large(send)
                return
        seen = 0
        over = False
        started = False

        async def limited() -> Message:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    over = True
                    raise _TooLarge
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if over and not started:
                return  # the app's answer to a body cut short: the 413 goes out instead
            started = True
            await send(message)

        with contextlib.suppress(_TooLarge):
            await self.app(scope, limited, guarded)
        if over and not started:
            await self._too_large(send)

    async def _too_large(self, send: Send) -> None:
        resp = JSONResponse(error_body("too_large", f"请求体过大(上限 {self.max_bytes} 字节)", "body"), status_code=413)
        await resp({"type": "http"}, _empty_receive, send)


class _TooLarge(Exception):
    pass


async def _empty_receive() -> Message:
    return {"type": "http.disconnect"}


def install(app: FastAPI, *, max_body_bytes: int) -> None:
    """Middleware and error handlers. The body limit runs inside the request-id middleware, so
    its 413 carries the request id too."""
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)

    @app.middleware("http")
    async def context(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request_id = request.headers.get("x-request-id") or new_id()
        request.state.request_id = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        start = time.perf_counter()
        status = 500
        try:
            try:
                response = await call_next(request)
            except Exception:
                # logged here, with its traceback (masked), instead of escaping as plain text
                log.exception("unhandled error", method=request.method, path=request.url.path)
                response = _internal_error(request_id)
            status = response.status_code
            response.headers["x-request-id"] = request_id
            return response
        finally:
            elapsed = time.perf_counter() - start
            route = getattr(request.scope.get("route"), "path", "unmatched")
            REQUESTS.labels(request.method, route, str(status)).inc()
            LATENCY.labels(request.method, route).observe(elapsed)
            if route not in ("/metrics", "/healthz", "/readyz"):
                log.info("request", method=request.method, route=route, status=status, ms=round(elapsed * 1000, 1))
            structlog.contextvars.unbind_contextvars("request_id")

    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)


def health_router(checks: Callable[[], dict[str, ReadinessCheck]]) -> APIRouter:
    """`checks` is called per request, so it may look up objects made after the app."""
    router = APIRouter(tags=["运维"])

    @router.get("/healthz", summary="进程存活")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="依赖(Kafka、MongoDB)可用")
    async def readyz() -> JSONResponse:
        results: dict[str, str] = {}
        ok = True
        for name, check in checks().items():
            try:
                await check()
                results[name] = "ok"
            except Exception as exc:
                ok = False
                results[name] = f"unavailable: {type(exc).__name__}"
        if ok:
            return JSONResponse({"status": "ok", "checks": results})
        failed = [name for name, result in results.items() if result != "ok"]
        body = error_body(
            "unavailable",
            f"服务暂不可用:依赖 {'、'.join(failed)} 无法访问",
            failed[0],
            status="unavailable",
            checks=results,
        )
        return JSONResponse(body, status_code=503)

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)

    return router
