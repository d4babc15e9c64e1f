"""HTTP routes of the party organisations (党组织)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from governance_service.party.models import PartyOrg, PartyOrgIn
from governance_service.party.service import PartyService
from relocation_shared.deps import AreaQuery, CurrentContext, IdempotentContext, from_state

router = APIRouter(prefix="/api/v1", tags=["党组织"])


Service = Annotated[PartyService, from_state("community.party")]


@router.post("/party-organisations", response_model=PartyOrg, status_code=201, summary="登记党总支、党支部、党小组")
async def register_party_org(body: PartyOrgIn, ctx: IdempotentContext, service: Service) -> PartyOrg:
    return await service.register(ctx=ctx, data=body)


@router.get("/party-organisations", response_model=list[PartyOrg], summary="社区的党组织")
async def list_party_orgs(community: AreaQuery, ctx: CurrentContext, service: Service) -> list[PartyOrg]:
    return await service.list(ctx=ctx, community=community)
