"""Settings of the read model."""

from __future__ import annotations

from pydantic import Field

from relocation_shared.settings import ServiceSettings

# Targets per indicator: "default" for every area, or by level ("county") or area code ("520330").
# 零就业家庭动态清零: 0; the employment rate is each county's own target (here a default).
# Override with the TARGETS environment variable (JSON of the same shape).
DEFAULT_TARGETS: dict[str, dict[str, float]] = {
    "zero_employment_households": {"default": 0},
    "employment_rate": {"default": 95.0, "city": 97.0},
    "employed_per_household": {"default": 1.0},
    # 民情实事办结率 100 %, nothing overdue, 调解成功率 ≥ 98 %, 上门服务 ≥ 500 a year per county
    "request_completion_rate": {"default": 100.0},
    "requests_overdue_open": {"default": 0},
    "mediation_success_rate": {"default": 98.0},
    "visits_this_year": {"county": 500},
}


class Settings(ServiceSettings):
    service_name: str = "readmodel"
    port: int = 8005
    mongodb_database: str = "readmodel"
    consumer_group: str = "readmodel"
    # Events folded per transaction, at most. A transaction writes each touched document once
    # (an area's view, a city's day in the ledger), however many events touched it, so a backlog
    # folds faster in large batches (1 million events on the test stack: 15,000/s in batches of
    # 20,000, 23,000/s in batches of 50,000), at the price of memory (about 1.6 KB a parsed event,
    # a batch folding and the next one parsed ahead). Under a light load batches are small anyway.
    batch_max_records: int = 50_000
    targets: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_TARGETS.items()}
    )
    static_dir: str | None = Field(None, description="the built monitoring page; defaults to the package's static/")
