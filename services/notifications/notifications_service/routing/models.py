"""Response schema of the directory: the cadres who receive notifications in an area."""

from __future__ import annotations

from pydantic import BaseModel

from relocation_shared.areas import Level


class StaffEntry(BaseModel):
    staff_id: str
    subject: str
    name_masked: str
    role: str
    role_label: str
    area_code: str
    area_level: Level
    area_level_label: str
    area_path: list[str]
