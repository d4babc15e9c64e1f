"""Request and response bodies of the jobs a project creates (带动就业)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from projects_service.money import ID_FIELD
from relocation_shared.batch import Input
from relocation_shared.mongo import Doc


class JobLinkIn(Input):
    spell_id: str = ID_FIELD


class JobLinkRow(JobLinkIn):
    project_id: str = ID_FIELD


class LinkedJob(BaseModel):
    spell_id: str
    resident_id: str
    household_id: str
    community_code: str | None
    employment_type: str
    started_on: date
    open: bool
    ended_on: date | None

    @classmethod
    def from_doc(cls, d: Doc) -> LinkedJob:
        return cls(
            spell_id=d["_id"],
            resident_id=d["resident_id"],
            household_id=d["household_id"],
            community_code=d.get("community_code"),
            employment_type=d["employment_type"],
            started_on=d["started_on"],
            open=d["open"],
            ended_on=d.get("ended_on"),
        )
