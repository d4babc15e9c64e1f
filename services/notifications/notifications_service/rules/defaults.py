"""The platform's standing rules, by fixed id: data in `defaults.json` beside this module. Seeded
once each (an officer may edit or delete them afterwards); rules for event types the catalog
does not know yet are left out."""

from __future__ import annotations

import json
from importlib import resources

from notifications_service.rules.models import RuleIn
from relocation_shared.events import CATALOG


def default_rules() -> list[tuple[str, RuleIn]]:
    entries = json.loads(resources.files(__package__).joinpath("defaults.json").read_text(encoding="utf-8"))
    rules = [(entry.pop("id"), RuleIn.model_validate(entry)) for entry in entries]
    return [(rid, r) for rid, r in rules if r.event_type in CATALOG.types]
