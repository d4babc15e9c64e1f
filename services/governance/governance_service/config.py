"""Settings of the governance service."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from relocation_shared.settings import ServiceSettings

DATA_DIR = Path(__file__).parent / "data"

# Hours allowed for each step of a resident request (四单), by category and urgency:
# table[category][urgency][step], falling back to table["default"][urgency][step]. Steps:
# dispatch 社区派单, accept 网格员接单, resolve 办结, rate 党组织评单, report 部门报到 (after 吹哨).
# A missed dispatch/accept/resolve deadline escalates one level (楼栋 → 网格 → 社区 → 镇街 → 县直部门).
DEFAULT_REQUEST_DEADLINE_HOURS: dict[str, dict[str, dict[str, float]]] = {
    "default": {
        "general": {"dispatch": 24, "accept": 24, "resolve": 120, "rate": 72, "report": 48},
        "urgent": {"dispatch": 4, "accept": 4, "resolve": 48, "rate": 48, "report": 24},
        "emergency": {"dispatch": 1, "accept": 1, "resolve": 12, "rate": 24, "report": 4},
    },
    # repairs wait for materials and workers
    "housing": {"general": {"resolve": 240}, "urgent": {"resolve": 72}},
    # 产权登记 and certificates go through county offices
    "certificates": {"general": {"resolve": 360}, "urgent": {"resolve": 120}},
    # 低保 and insurance files need the civil-affairs bureau's review
    "social_security": {"general": {"resolve": 168}},
    # safety is never left a day
    "public_security": {"general": {"dispatch": 4, "accept": 4, "resolve": 48}},
}


class Settings(ServiceSettings):
    service_name: str = "governance"
    port: int = 8001
    mongodb_database: str = "governance"
    areas_file: Path = DATA_DIR / "zunyi_areas.json"
    batch_max_items: int = 500

    # community work
    request_deadline_hours: dict[str, dict[str, dict[str, float]]] = Field(
        default_factory=lambda: DEFAULT_REQUEST_DEADLINE_HOURS,
        description="JSON: category → urgency → step → hours (see DEFAULT_REQUEST_DEADLINE_HOURS)",
    )
    dispute_deadline_days: int = Field(30, ge=1, le=90, description="调解期限(人民调解一般 30 日内)")
    deadline_scan_seconds: float = Field(15.0, gt=0, description="how often the deadline scheduler scans")
    deadline_scan_batch: int = Field(500, ge=1)
    deadline_scan_concurrency: int = Field(8, ge=1, le=64)
    points_ledger_page: int = Field(100, ge=1, le=1000)
