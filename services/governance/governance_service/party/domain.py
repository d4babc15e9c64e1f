"""Party organisations: which kind may sit under which, at which area levels each is set up,
and which one rates a request (党组织评单) when none is named. Pure rules, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from relocation_shared.areas import Level
from relocation_shared.errors import Conflict, InvalidInput
from relocation_shared.events.community import PARTY_ORG_KIND_LABELS, PartyOrgKind

# Which kind of organisation may sit under which (None: directly under the community).
PARTY_PARENT_KINDS: dict[PartyOrgKind, frozenset[PartyOrgKind | None]] = {
    PartyOrgKind.GENERAL_BRANCH: frozenset({None}),
    PartyOrgKind.BRANCH: frozenset({None, PartyOrgKind.GENERAL_BRANCH}),
    PartyOrgKind.GROUP: frozenset({PartyOrgKind.BRANCH}),
}
# At which area levels each kind is set up (楼栋党小组, 网格党支部 …).
PARTY_AREA_LEVELS: dict[PartyOrgKind, frozenset[Level]] = {
    PartyOrgKind.GENERAL_BRANCH: frozenset({Level.COMMUNITY}),
    PartyOrgKind.BRANCH: frozenset({Level.COMMUNITY, Level.GRID}),
    PartyOrgKind.GROUP: frozenset({Level.COMMUNITY, Level.GRID, Level.BUILDING}),
}


@dataclass(frozen=True)
class PartyOrganisation:
    id: str
    name: str
    kind: PartyOrgKind
    community_code: str
    area_code: str
    area_path: list[str]
    parent_id: str | None
    secretary_name: str | None
    members: int
    registered_at: datetime

    @property
    def kind_label(self) -> str:
        return PARTY_ORG_KIND_LABELS[self.kind]


def check_area_level(kind: PartyOrgKind, level: Level) -> None:
    if level not in PARTY_AREA_LEVELS[kind]:
        allowed = "、".join(lv.label for lv in sorted(PARTY_AREA_LEVELS[kind], key=lambda lv: lv.depth))
        raise InvalidInput(f"{PARTY_ORG_KIND_LABELS[kind]}应设在{allowed}", field="area_code")


def check_parent_kind(kind: PartyOrgKind, parent_kind: PartyOrgKind | None) -> None:
    if parent_kind not in PARTY_PARENT_KINDS[kind]:
        raise InvalidInput(
            f"{PARTY_ORG_KIND_LABELS[kind]}的上级不能是"
            f"{PARTY_ORG_KIND_LABELS[parent_kind] if parent_kind else '社区(须填写上级党组织)'}",
            field="parent_id",
        )


def check_unique_name(name: str, siblings: list[PartyOrganisation]) -> None:
    if any(s.name == name for s in siblings):
        raise Conflict("该社区已有同名党组织", field="name")


def default_rating_org(orgs: list[PartyOrganisation]) -> str | None:
    """The organisation a request of the community is rated for when none is named: the
    community's 党总支, else its top 党支部, else none."""
    for kind in (PartyOrgKind.GENERAL_BRANCH, PartyOrgKind.BRANCH):
        for org in orgs:
            if org.kind is kind and not org.parent_id:
                return org.id
    return None
