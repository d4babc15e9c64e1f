"""HTTP routes of the notification rules (read: city and county officers; write: city officers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from notifications_service.rules.models import EventTypeInfo, Rule, RuleIn, RuleUpdate
from notifications_service.rules.service import RulesService
from relocation_shared.deps import CurrentContext, IdempotentContext, from_state

Service = Annotated[RulesService, from_state("rules")]

router = APIRouter(prefix="/api/v1", tags=["通知规则"])


@router.get("/rules", response_model=list[Rule], summary="通知规则")
async def list_rules(
    ctx: CurrentContext,
    service: Service,
    event_type: Annotated[str | None, Query(max_length=100)] = None,
    include_deleted: bool = False,
) -> list[Rule]:
    return await service.list_rules(ctx=ctx, include_deleted=include_deleted, event_type=event_type)


@router.post("/rules", response_model=Rule, status_code=201, summary="新建规则(市级)")
async def create_rule(body: RuleIn, ctx: IdempotentContext, service: Service) -> Rule:
    return await service.create_rule(ctx=ctx, data=body)


@router.get("/rules/{rule_id}", response_model=Rule, summary="查看规则")
async def get_rule(rule_id: str, ctx: CurrentContext, service: Service) -> Rule:
    return await service.get_rule(ctx=ctx, rule_id=rule_id)


@router.put("/rules/{rule_id}", response_model=Rule, summary="修改规则(生成新版本)")
async def update_rule(rule_id: str, body: RuleUpdate, ctx: CurrentContext, service: Service) -> Rule:
    return await service.update_rule(ctx=ctx, rule_id=rule_id, data=body)


@router.delete("/rules/{rule_id}", response_model=Rule, summary="删除规则(生成停用版本)")
async def delete_rule(
    rule_id: str,
    ctx: CurrentContext,
    service: Service,
    expected_version: Annotated[int | None, Query(ge=1)] = None,
) -> Rule:
    return await service.delete_rule(ctx=ctx, rule_id=rule_id, expected_version=expected_version)


@router.get("/rules/{rule_id}/versions", response_model=list[Rule], summary="规则的历次版本")
async def rule_versions(rule_id: str, ctx: CurrentContext, service: Service) -> list[Rule]:
    return await service.rule_versions(ctx=ctx, rule_id=rule_id)


@router.get("/event-types", response_model=list[EventTypeInfo], summary="可配置的事件与字段")
async def event_types(ctx: CurrentContext, service: Service) -> list[EventTypeInfo]:
    return service.event_types(ctx=ctx)
