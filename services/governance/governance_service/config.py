"""Settings of the governance service."""

from __future__ import annotations

from pathlib import Path

from relocation_shared.settings import ServiceSettings

DATA_DIR = Path(__file__).parent / "data"


class Settings(ServiceSettings):
    service_name: str = "governance"
    port: int = 8001
    mongodb_database: str = "governance"
    areas_file: Path = DATA_DIR / "zunyi_areas.json"
    batch_max_items: int = 500
