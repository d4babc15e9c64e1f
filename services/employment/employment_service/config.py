"""Settings of the employment service."""

from __future__ import annotations

from relocation_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "employment"
    port: int = 8002
    mongodb_database: str = "employment"
    consumer_group: str = "employment-roster"
    batch_max_items: int = 500
