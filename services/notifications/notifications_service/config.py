"""Settings of the notifications service."""

from __future__ import annotations

from pydantic import Field, SecretStr

from relocation_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "notifications"
    port: int = 8004
    mongodb_database: str = "notifications"
    consumer_group: str = "notifications"

    # Enterprise messaging gateway (政务微信 / 钉钉 style): signed JSON webhooks. Unset: channel off.
    webhook_url: str | None = None
    webhook_secret: SecretStr = SecretStr("local-webhook-secret-change-me")
    # SMS gateway: gets the recipient's subject and resolves the phone number itself.
    sms_url: str | None = None
    sms_secret: SecretStr = SecretStr("local-sms-secret-change-me")
    gateway_timeout_seconds: float = 5.0

    # What a cadre gets before they set preferences (the inbox is always on).
    default_channels: list[str] = Field(default_factory=lambda: ["inbox", "webhook"])
    quiet_hours_utc_offset_hours: int = 8  # quiet hours are read in China Standard Time

    # The dispatcher: deliveries are claimed with a lease, retried with exponential backoff and
    # jitter, and dead-lettered after `delivery_max_attempts`.
    dispatcher_batch: int = 200
    dispatcher_concurrency: int = 16
    dispatcher_poll_seconds: float = 0.5
    delivery_lease_seconds: float = 60.0
    delivery_max_attempts: int = 6
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 600.0

    # Acknowledge or escalate: how often overdue urgent notifications are looked for.
    escalation_scan_seconds: float = 15.0

    seed_default_rules: bool = True
    shutdown_grace_seconds: int = 3  # then open inbox streams are closed
