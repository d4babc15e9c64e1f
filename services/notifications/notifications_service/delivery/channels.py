"""Delivery channels behind one interface: the in-app inbox, the enterprise messaging gateway
(signed webhooks) and the SMS gateway.

Every send carries the notification id as an idempotency key (`X-Notification-Id`): when a
dispatcher dies between the gateway's acceptance and marking the delivery done, the resend that
follows is recognised by the gateway and not shown twice. The inbox is idempotent by itself (it
stamps `inbox_at` only where it is still unset), so its live push happens once."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass

import httpx
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, PyMongoError

from notifications_service.delivery.backoff import retryable_status
from notifications_service.delivery.domain import Channel, OutgoingMessage
from notifications_service.inbox.repository import push_record
from relocation_shared.clock import Clock, system_clock
from relocation_shared.mongo import Doc

SIGNATURE_HEADER = "X-Signature-256"
ID_HEADER = "X-Notification-Id"


class DeliveryFailed(Exception):
    def __init__(self, reason: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.status = status


@dataclass(frozen=True)
class SendResult:
    ok: bool
    status: int | None = None
    error: str | None = None
    retryable: bool = True
    ms: float = 0.0


class NotificationChannel(ABC):
    name: Channel

    @abstractmethod
    async def send(self, message: OutgoingMessage) -> int | None:
        """Deliver one message; returns the gateway's status code (None for the inbox). Raises
        DeliveryFailed, saying whether another attempt may succeed."""

    async def send_many(self, messages: list[OutgoingMessage], *, concurrency: int = 16) -> list[SendResult]:
        gate = asyncio.Semaphore(concurrency)

        async def one(m: OutgoingMessage) -> SendResult:
            async with gate:
                started = time.perf_counter()
                try:
                    status = await self.send(m)
                except DeliveryFailed as exc:
                    ms = (time.perf_counter() - started) * 1000
                    return SendResult(ok=False, status=exc.status, error=exc.reason, retryable=exc.retryable, ms=ms)
                return SendResult(ok=True, status=status, ms=(time.perf_counter() - started) * 1000)

        return list(await asyncio.gather(*(one(m) for m in messages)))

    async def close(self) -> None:
        return None


class InboxChannel(NotificationChannel):
    """站内消息: the notification shows in the cadre's inbox (`inbox_at` is set where it is still
    unset) and a push record is written under the notification's id, which every instance's hub
    watches to feed the cadre's open streams. Sending again after a crash changes nothing and
    pushes nothing twice: the push record's id is taken.

    New notifications do not wait for the dispatcher: routing writes the same two things in the
    transaction that makes the notification (our own database is the inbox), so the push leaves
    with the commit. This channel delivers what is pending for the inbox otherwise."""

    name = Channel.INBOX

    def __init__(self, db: AsyncDatabase[Doc], *, clock: Clock = system_clock) -> None:
        self.db = db
        self.clock = clock

    async def send(self, message: OutgoingMessage) -> int | None:
        (result,) = await self.send_many([message])
        if not result.ok:
            raise DeliveryFailed(result.error or "站内消息写入失败", retryable=True)
        return None

    async def send_many(self, messages: list[OutgoingMessage], *, concurrency: int = 16) -> list[SendResult]:
        started = time.perf_counter()
        now = self.clock()
        try:
            await self.db.notifications.update_many(
                {"_id": {"$in": [m.notification_id for m in messages]}, "inbox_at": None}, {"$set": {"inbox_at": now}}
            )
            pushes = [push_record({**m.extra, "inbox_at": m.extra.get("inbox_at") or now}, now) for m in messages]
            with contextlib.suppress(BulkWriteError):  # already pushed (a resend): nothing twice
                await self.db.pushes.insert_many(pushes, ordered=False)
        except PyMongoError as exc:  # the database is away: every one of them waits for the next round
            return [SendResult(ok=False, error=f"{type(exc).__name__}: {exc}"[:300]) for _ in messages]
        ms = (time.perf_counter() - started) * 1000
        return [SendResult(ok=True, ms=ms) for _ in messages]


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class GatewayChannel(NotificationChannel):
    """An HTTP gateway: a JSON body signed with HMAC-SHA256 over the exact bytes sent, the
    notification id as idempotency key, a timeout. 2xx is delivered; 5xx, 408, 425, 429,
    timeouts and connection errors are worth another attempt; any other answer is not."""

    def __init__(self, *, url: str, secret: str, timeout: float, client: httpx.AsyncClient | None = None) -> None:
        self.url = url
        self.secret = secret.encode()
        self.client = client or httpx.AsyncClient(timeout=timeout)
        self.timeout = timeout

    def body(self, message: OutgoingMessage) -> dict[str, object]:
        return message.body()

    async def send(self, message: OutgoingMessage) -> int | None:
        body = json.dumps(self.body(message), ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            ID_HEADER: message.notification_id,
            SIGNATURE_HEADER: sign(self.secret, body),
        }
        try:
            resp = await self.client.post(self.url, content=body, headers=headers, timeout=self.timeout)
        except httpx.TimeoutException as exc:
            raise DeliveryFailed(f"网关超时({self.timeout:g}秒)", retryable=True) from exc
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"无法连接网关:{type(exc).__name__}", retryable=True) from exc
        if 200 <= resp.status_code < 300:
            return resp.status_code
        raise DeliveryFailed(
            f"网关返回 {resp.status_code}:{resp.text[:200]}",
            retryable=retryable_status(resp.status_code),
            status=resp.status_code,
        )

    async def close(self) -> None:
        await self.client.aclose()


class WebhookChannel(GatewayChannel):
    """政务消息推送: the enterprise messaging gateway maps the subject to the cadre's account."""

    name = Channel.WEBHOOK


class SmsChannel(GatewayChannel):
    """短信: the gateway resolves the subject to the cadre's phone number itself; this service
    never holds a phone number."""

    name = Channel.SMS

    def body(self, message: OutgoingMessage) -> dict[str, object]:
        return {
            "notification_id": message.notification_id,
            "recipient": message.recipient,
            "text": f"【易地搬迁后续扶持】{message.title}:{message.text}",
            "urgency": message.urgency,
        }
