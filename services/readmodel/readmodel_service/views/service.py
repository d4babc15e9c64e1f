"""The monitoring questions: an area's view with its children, as of a day, a trend, the
zero-employment list, the feed and the live stream, each for a reader and within their areas."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import date

from pymongo.asynchronous.database import AsyncDatabase

from readmodel_service.fold.plan import bucket_of
from readmodel_service.fold.repository import active_generation
from readmodel_service.indicators import INDICATORS
from readmodel_service.views.domain import (
    Targets,
    area_ref,
    counters_of,
    feed_item,
    require_ledgered,
    target_for,
    trend_points,
    view_from,
    zero_household,
)
from readmodel_service.views.models import FeedItem, Trend, View, ZeroHousehold
from readmodel_service.views.repository import ViewStore
from readmodel_service.views.stream import Message, area_stream
from relocation_shared.auth import Action
from relocation_shared.clock import Clock, business_today
from relocation_shared.context import Context
from relocation_shared.errors import InvalidInput, NotFound
from relocation_shared.mongo import Doc


class ReadModelService:
    def __init__(self, *, db: AsyncDatabase[Doc], targets: Targets, clock: Clock) -> None:
        self.db = db
        self.targets = targets
        self.clock = clock

    async def store(self) -> ViewStore:
        return ViewStore(self.db, await active_generation(self.db))

    async def _open(self, ctx: Context, area: str) -> tuple[ViewStore, Doc]:
        """The active generation's store and the area's view, for a reader whose areas hold it."""
        ctx.principal.require(Action.READ)
        store = await self.store()
        doc = await store.view(area)
        if doc is None:
            raise NotFound("该区域暂无数据", field="area")
        ctx.principal.require_area(doc.get("path") or [area], field="area")
        return store, doc

    async def view(self, *, ctx: Context, area: str) -> View:
        store, doc = await self._open(ctx, area)
        return view_from(doc, targets=self.targets, on=business_today(self.clock), children=await store.children(area))

    async def as_of(self, *, ctx: Context, area: str, on: date) -> View:
        store, doc = await self._open(ctx, area)
        require_ledgered(doc, area)
        counters = counters_of(await store.daily(area, bucket_of(area), until=on), area)
        view = view_from({**doc, "counters": counters}, targets=self.targets, on=on)
        view.as_of = on
        return view

    async def trend(self, *, ctx: Context, area: str, indicator: str, since: date | None) -> Trend:
        ctx.principal.require(Action.READ)  # before the indicator is checked, as ever
        ind = INDICATORS.get(indicator)
        if ind is None:
            raise InvalidInput("未知指标", field="indicator")
        store, doc = await self._open(ctx, area)
        require_ledgered(doc, area)
        return Trend(
            area=area_ref(doc),
            indicator=ind.key,
            label=ind.label,
            unit=ind.unit,
            target=target_for(self.targets, ind.key, code=area, level=doc.get("level", "")),
            points=trend_points(await store.daily(area, bucket_of(area)), area, ind, since=since),
        )

    async def zero_households(self, *, ctx: Context, area: str, limit: int) -> list[ZeroHousehold]:
        store, _ = await self._open(ctx, area)
        now = self.clock()
        return [zero_household(h, now=now) for h in await store.zero_households(area, limit=limit)]

    async def feed(self, *, ctx: Context, area: str, limit: int) -> list[FeedItem]:
        store, _ = await self._open(ctx, area)
        return [feed_item(d) for d in await store.feed(area, limit=limit)]

    async def stream(self, *, ctx: Context, area: str) -> AsyncIterator[Message]:
        """Server-sent events for an area (see views/stream.py); scope and existence are checked
        when the first message is asked for."""
        store, doc = await self._open(ctx, area)
        messages = area_stream(db=self.db, store=store, area=area, doc=doc, targets=self.targets, clock=self.clock)
        async with aclosing(messages):
            async for message in messages:
                yield message
