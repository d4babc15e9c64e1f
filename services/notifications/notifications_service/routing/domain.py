"""Whom a rule tells about an event: the cadres assigned to the event's area in the role and at
the level the rule names (from the directory the service keeps from the registry's staffing
events), or the cadre a payload field names; each person once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from notifications_service.rules.domain import CompiledRule
from relocation_shared.areas import Level
from relocation_shared.events import Envelope, EventPayload
from relocation_shared.mongo import Doc

Match = tuple[Envelope, EventPayload, CompiledRule]


@dataclass(frozen=True)
class Recipient:
    subject: str
    role: str
    depth: int  # the level they answer for: province 0 … building 6
    area_code: str
    staff_id: str | None = None
    name_masked: str = ""


class Directory(Protocol):
    """The cadres known from the registry's staffing events (active assignments only)."""

    async def at(self, area_code: str, role: str) -> list[Doc]: ...

    async def by_subject(self, subject: str) -> list[Doc]: ...


class MemoryDirectory:
    """A directory read ahead of time (for a batch of events), answered from memory."""

    def __init__(self, docs: list[Doc]) -> None:
        self.by_area: dict[tuple[str, str], list[Doc]] = {}
        self.by_subj: dict[str, list[Doc]] = {}
        for d in sorted(docs, key=lambda d: d["_id"]):
            if d.get("active", True):
                self.by_area.setdefault((d["area_code"], d["role"]), []).append(d)
                self.by_subj.setdefault(d["subject"], []).append(d)

    async def at(self, area_code: str, role: str) -> list[Doc]:
        return self.by_area.get((area_code, role), [])

    async def by_subject(self, subject: str) -> list[Doc]:
        return self.by_subj.get(subject, [])


def recipient_of(doc: Doc) -> Recipient:
    return Recipient(
        subject=doc["subject"],
        role=doc["role"],
        depth=Level(doc["area_level"]).depth,
        area_code=doc["area_code"],
        staff_id=doc["_id"],
        name_masked=doc.get("name_masked", ""),
    )


async def resolve_recipients(
    rule: CompiledRule, env: Envelope, payload: EventPayload, directory: Directory
) -> list[Recipient]:
    """The cadres a rule tells about an event, each once (the first audience entry wins)."""
    out: dict[str, Recipient] = {}
    path = env.area_path
    for a in rule.audience:
        if a.subject_field is not None:
            subject = getattr(payload, a.subject_field, None)
            if not subject or subject in out:
                continue
            entries = [d for d in await directory.by_subject(str(subject)) if d["area_code"] in path]
            if entries:
                deepest = max(entries, key=lambda d: Level(d["area_level"]).depth)
                out[subject] = recipient_of(deepest)
            else:  # not (yet) in the directory: the inbox is keyed by subject, so tell them anyway
                out[subject] = Recipient(subject=str(subject), role="", depth=len(path) - 1, area_code=path[-1])
            continue
        assert a.role is not None and a.level is not None
        if a.level.depth >= len(path):
            continue  # the event does not reach that level (a county-wide event has no grid)
        for doc in await directory.at(path[a.level.depth], a.role):
            out.setdefault(doc["subject"], recipient_of(doc))
    return list(out.values())


def directory_needs(matches: list[Match]) -> tuple[list[str], list[str], list[str]]:
    """(area codes, roles, subjects) the matched rules may tell: what to read ahead of a batch."""
    codes: set[str] = set()
    roles: set[str] = set()
    subjects: set[str] = set()
    for env, payload, rule in matches:
        for a in rule.audience:
            if a.subject_field is not None:
                subject = getattr(payload, a.subject_field, None)
                if subject:
                    subjects.add(str(subject))
            elif a.role is not None and a.level is not None and a.level.depth < len(env.area_path):
                codes.add(env.area_path[a.level.depth])
                roles.add(a.role)
    return sorted(codes), sorted(roles), sorted(subjects)
