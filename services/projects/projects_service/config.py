"""Settings of the projects service."""

from __future__ import annotations

from relocation_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "projects"
    port: int = 8003
    mongodb_database: str = "projects"
    consumer_group: str = "projects-jobs"
    batch_max_items: int = 500
