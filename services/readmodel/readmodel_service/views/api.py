"""HTTP routes of the read model: views, trends, as-of, zero-employment list, feed, live stream."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from readmodel_service.indicators import INDICATORS
from readmodel_service.views.models import FeedItem, Trend, View, ZeroHousehold
from readmodel_service.views.service import ReadModelService
from readmodel_service.views.stream import sse_body
from relocation_shared.deps import AreaQuery, CurrentContext, from_state

Service = Annotated[ReadModelService, from_state("service")]

router = APIRouter(prefix="/api/v1", tags=["监测"])


@router.get("/views/{area}", response_model=View, summary="区域指标及下级对比")
async def view(area: str, ctx: CurrentContext, service: Service) -> View:
    return await service.view(ctx=ctx, area=area)


@router.get("/views/{area}/as-of", response_model=View, summary="某日的区域指标")
async def as_of(area: str, on: Annotated[date, Query(alias="date")], ctx: CurrentContext, service: Service) -> View:
    return await service.as_of(ctx=ctx, area=area, on=on)


@router.get("/views/{area}/trend", response_model=Trend, summary="指标趋势")
async def trend(
    area: str,
    indicator: Annotated[str, Query(max_length=60)],
    ctx: CurrentContext,
    service: Service,
    since: date | None = None,
) -> Trend:
    return await service.trend(ctx=ctx, area=area, indicator=indicator, since=since)


@router.get("/indicators", summary="指标定义")
async def indicators() -> list[dict[str, str | int | bool]]:
    return [
        {
            "key": i.key,
            "label": i.label,
            "unit": i.unit,
            "group": i.group,
            "decimals": i.decimals,
            "better": i.better,
            "headline": i.headline,
        }
        for i in INDICATORS.values()
    ]


@router.get("/zero-employment-households", response_model=list[ZeroHousehold], summary="零就业家庭清单")
async def zero_households(
    area: AreaQuery, ctx: CurrentContext, service: Service, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[ZeroHousehold]:
    return await service.zero_households(ctx=ctx, area=area, limit=limit)


@router.get("/feed", response_model=list[FeedItem], summary="最新动态")
async def feed(
    area: AreaQuery, ctx: CurrentContext, service: Service, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[FeedItem]:
    return await service.feed(ctx=ctx, area=area, limit=limit)


@router.get("/stream", summary="实时推送(Server-Sent Events)")
async def stream(area: AreaQuery, ctx: CurrentContext, service: Service, request: Request) -> StreamingResponse:
    events = service.stream(ctx=ctx, area=area)
    first = await anext(events)  # scope and existence are checked before the stream opens
    return StreamingResponse(
        sse_body(first, events, request),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
