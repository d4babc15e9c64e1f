"""Settings every service shares. Each service subclasses `ServiceSettings` once in its config.py.

Values come from the environment (MONGODB_URI, KAFKA_BOOTSTRAP_SERVERS, JWT_SECRET, ...).
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", env_file=None)

    service_name: str = "service"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"

    mongodb_uri: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    mongodb_database: str = "relocation"

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_create_topics: bool = Field(True, description="create missing topics at start (local and tests)")
    kafka_topic_partitions: int = 6
    kafka_replication_factor: int = 1

    # Identity provider: HS256 shared secret for local runs, or an RS256/ES256 public key or JWKS URL.
    jwt_secret: SecretStr | None = None
    jwt_public_key: str | None = None
    jwt_jwks_url: str | None = None
    jwt_issuer: str = "relocation-idp"
    jwt_audience: str = "relocation-platform"

    # Key of the keyed hash under which national ID and phone numbers are stored.
    pii_hash_key: SecretStr = SecretStr("local-development-key-change-me")

    max_body_bytes: int = 2_000_000
    outbox_poll_seconds: float = 0.5
    outbox_batch_size: int = 500
