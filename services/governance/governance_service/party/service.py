"""Use cases of the party organisations of a community: 党总支, 党支部 (under it or directly
under the community, also per grid), 党小组 (under a 党支部, also per building)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from governance_service.party.domain import (
    PartyOrganisation,
    check_area_level,
    check_parent_kind,
    check_unique_name,
)
from governance_service.party.models import PartyOrg, PartyOrgIn
from governance_service.party.repository import PartyStore
from governance_service.registry.repository import RegistryStore
from relocation_shared.areas import Level
from relocation_shared.auth import Action
from relocation_shared.clock import Clock
from relocation_shared.context import Context
from relocation_shared.errors import InvalidInput, NotFound
from relocation_shared.events.community import PartyOrgKind, PartyOrgRegistered
from relocation_shared.idempotency import responding, run_once
from relocation_shared.ids import new_id
from relocation_shared.mongo import Doc
from relocation_shared.outbox import Tx, UnitOfWork


@dataclass(kw_only=True, eq=False)
class PartyService:
    uow: UnitOfWork
    party: PartyStore
    registry: RegistryStore
    clock: Clock

    async def register(self, *, ctx: Context, data: PartyOrgIn) -> PartyOrg:
        ctx.principal.require(Action.PARTY_WRITE)
        body = responding(partial(self._register, ctx, data), PartyOrg.model_validate)
        return await run_once(self.uow, ctx=ctx, scope="party.register", request=data, result_model=PartyOrg, body=body)

    async def _register(self, ctx: Context, data: PartyOrgIn, tx: Tx) -> PartyOrganisation:
        community = await self.registry.get_area(data.community_code, tx.session)
        if community is None or community["level"] != Level.COMMUNITY:
            raise InvalidInput(f"{Level.COMMUNITY.label}不存在", field="community_code")
        ctx.principal.require_area(community["path"], field="community_code")
        area = await self._placement(data, community, tx)
        check_area_level(data.kind, Level(area["level"]))
        parent_kind: PartyOrgKind | None = None
        if data.parent_id:
            parent = await self.party.get(data.parent_id, tx.session)
            if parent is None or parent.community_code != data.community_code:
                raise InvalidInput("上级党组织不存在或不属于该社区", field="parent_id")
            parent_kind = parent.kind
        check_parent_kind(data.kind, parent_kind)
        check_unique_name(data.name, await self.party.in_community(data.community_code, tx.session))
        org = PartyOrganisation(
            id=new_id(),
            name=data.name,
            kind=data.kind,
            community_code=data.community_code,
            area_code=area["_id"],
            area_path=list(area["path"]),
            parent_id=data.parent_id,
            secretary_name=data.secretary_name,
            members=data.members,
            registered_at=tx.now,
        )
        await self.party.insert(org, tx.session)
        tx.record(
            PartyOrgRegistered(
                party_org_id=org.id,
                kind=org.kind,
                name=org.name,
                community_code=org.community_code,
                area_code=org.area_code,
                parent_id=org.parent_id,
                members=org.members,
            ),
            area_path=org.area_path,
            aggregate_id=org.id,
        )
        return org

    async def _placement(self, data: PartyOrgIn, community: Doc, tx: Tx) -> Doc:
        """The community, or the grid or building of it the organisation is set up in."""
        if not data.area_code or data.area_code == data.community_code:
            return community
        found = await self.registry.get_area(data.area_code, tx.session)
        if found is None or data.community_code not in found["path"]:
            raise InvalidInput("党组织所在区域不存在或不属于该社区", field="area_code")
        return found

    async def list(self, *, ctx: Context, community: str) -> list[PartyOrg]:
        area = await self.registry.get_area(community)
        if area is None or area["level"] != Level.COMMUNITY:
            raise NotFound("安置社区不存在", field="community")
        ctx.principal.require_area(area["path"], field="community")
        return [PartyOrg.model_validate(o) for o in await self.party.in_community(community)]
