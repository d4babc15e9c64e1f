"""The `party_orgs` collection."""

from __future__ import annotations

from typing import Protocol

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from governance_service.party.domain import PartyOrganisation
from relocation_shared.events.community import PartyOrgKind
from relocation_shared.mongo import Doc

Session = AsyncClientSession | None


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.party_orgs.create_index([("community_code", ASCENDING)], name="community")


def to_doc(o: PartyOrganisation) -> Doc:
    return {
        "_id": o.id,
        "name": o.name,
        "kind": o.kind.value,
        "community_code": o.community_code,
        "area_code": o.area_code,
        "area_path": list(o.area_path),
        "parent_id": o.parent_id,
        "secretary_name": o.secretary_name,
        "members": o.members,
        "registered_at": o.registered_at,
    }


def from_doc(d: Doc) -> PartyOrganisation:
    return PartyOrganisation(
        id=d["_id"],
        name=d["name"],
        kind=PartyOrgKind(d["kind"]),
        community_code=d["community_code"],
        area_code=d["area_code"],
        area_path=list(d["area_path"]),
        parent_id=d.get("parent_id"),
        secretary_name=d.get("secretary_name"),
        members=d.get("members", 0),
        registered_at=d["registered_at"],
    )


class PartyStore(Protocol):
    async def insert(self, org: PartyOrganisation, session: Session = None) -> None: ...

    async def get(self, org_id: str, session: Session = None) -> PartyOrganisation | None: ...

    async def in_community(self, community_code: str, session: Session = None) -> list[PartyOrganisation]: ...


class MongoPartyStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def insert(self, org: PartyOrganisation, session: Session = None) -> None:
        await self.db.party_orgs.insert_one(to_doc(org), session=session)

    async def get(self, org_id: str, session: Session = None) -> PartyOrganisation | None:
        doc = await self.db.party_orgs.find_one({"_id": org_id}, session=session)
        return from_doc(doc) if doc is not None else None

    async def in_community(self, community_code: str, session: Session = None) -> list[PartyOrganisation]:
        """The community's organisations, by id."""
        cursor = self.db.party_orgs.find({"community_code": community_code}, session=session)
        return [from_doc(d) for d in await cursor.sort("_id", ASCENDING).to_list(None)]
