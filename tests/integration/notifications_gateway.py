"""A fake messaging / SMS gateway for the notifications tests: a real HTTP server (Starlette under
uvicorn, in a thread of its own, on a free port) that behaves like a real gateway would: it
checks the HMAC signature, deduplicates on the `X-Notification-Id` idempotency key (a resend is
answered 200 but shown to nobody a second time) and can be told to fail the next N requests."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class Received:
    path: str
    notification_id: str
    status: int
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class FakeGateway:
    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()
        self.lock = threading.Lock()
        self.requests: list[Received] = []  # every request, whatever the answer
        self.accepted: dict[tuple[str, str], dict[str, Any]] = {}  # what a person would see, once
        self._fail_left = 0
        self._fail_status = 503
        self.delay = 0.0
        self.port = _free_port()
        self.app = Starlette(
            routes=[Route("/webhook", self._receive, methods=["POST"]), Route("/sms", self._receive, methods=["POST"])]
        )
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        )
        self.thread = threading.Thread(target=self.server.run, name="fake-gateway", daemon=True)

    def url(self, path: str = "/webhook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def fail(self, times: int, status: int = 503) -> None:
        with self.lock:
            self._fail_left = times
            self._fail_status = status

    def deliveries(self, path: str = "/webhook", notification_id: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [b for (p, nid), b in self.accepted.items() if p == path and notification_id in (None, nid)]

    def hits(self, notification_id: str, path: str = "/webhook") -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.notification_id == notification_id and r.path == path]

    async def _receive(self, request: Request) -> JSONResponse:
        raw = await request.body()
        nid = request.headers.get("x-notification-id", "")
        expected = "sha256=" + hmac.new(self.secret, raw, hashlib.sha256).hexdigest()
        signed = hmac.compare_digest(request.headers.get("x-signature-256", ""), expected)
        body = json.loads(raw) if raw else {}
        if self.delay:
            time.sleep(self.delay)  # a slow gateway (this thread's loop serves nobody else)
        path = request.url.path
        answer: dict[str, Any]
        with self.lock:
            if not signed:
                status, answer = 401, {"error": "bad signature"}
            elif not nid:
                status, answer = 400, {"error": "missing X-Notification-Id"}
            elif self._fail_left > 0:
                self._fail_left -= 1
                status, answer = self._fail_status, {"error": "gateway unavailable"}
            elif (path, nid) in self.accepted:
                status, answer = 200, {"duplicate": True}
            else:
                self.accepted[(path, nid)] = body
                status, answer = 200, {"accepted": True}
            self.requests.append(Received(path=path, notification_id=nid, status=status, body=body))
        return JSONResponse(answer, status_code=status)

    def start(self) -> FakeGateway:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake gateway did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> FakeGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
