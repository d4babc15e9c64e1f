"""Use cases of the registry. Each runs in one unit of work: the state change and the events it
means are committed together (outbox). Transaction bodies are the `_…` methods taking `tx`,
safe to run again when the unit of work retries them. Keyword-only arguments throughout."""

from __future__ import annotations

import asyncio
import json
from functools import partial
from pathlib import Path
from typing import Any

from governance_service.registry import domain
from governance_service.registry.domain import AreaRecord, HouseholdRecord, ResidentRecord
from governance_service.registry.models import (
    Area,
    AreaIn,
    Household,
    HouseholdIn,
    MoveOut,
    Resident,
    ResidentIn,
    ResidentUpdate,
)
from governance_service.registry.repository import RegistryStore
from relocation_shared.auth import Action, Principal
from relocation_shared.batch import BatchResult, Outcome
from relocation_shared.clock import Clock, business_day, business_today
from relocation_shared.context import Context
from relocation_shared.errors import Conflict, DomainError, InvalidInput, NotFound
from relocation_shared.idempotency import apply_many_once, run_once
from relocation_shared.ids import new_id
from relocation_shared.logging import get_logger
from relocation_shared.outbox import Tx, UnitOfWork
from relocation_shared.pii import keyed_hash, parse_national_id

log = get_logger(__name__)


class RegistryService:
    def __init__(
        self, *, uow: UnitOfWork, store: RegistryStore, pii_key: bytes, clock: Clock, batch_max: int = 500
    ) -> None:
        self.uow = uow
        self.store = store
        self.clock = clock
        self.pii_key = pii_key
        self.batch_max = batch_max

    # areas ---------------------------------------------------------------
    async def load_areas(self, *, path: Path) -> int:
        """Load the area file (parents before children), computing each area's path. New and
        renamed areas are published, so that every consumer learns their names."""
        rows = json.loads(await asyncio.to_thread(path.read_text, encoding="utf-8"))
        areas = domain.areas_of_file(rows)
        count = await self.uow.run(partial(self._store_areas, areas))
        log.info("areas loaded", file=path.name, areas=len(areas), changed=count)
        return len(areas)

    async def _store_areas(self, areas: list[AreaRecord], tx: Tx) -> int:
        known = await self.store.find_areas([a.code for a in areas], tx.session)
        changed = domain.new_or_renamed(areas, {code: a.name for code, a in known.items()})
        await self.store.upsert_areas(changed, tx.session)
        for area in changed:
            self._record_area(tx, area)
        return len(changed)

    @staticmethod
    def _record_area(tx: Tx, area: AreaRecord) -> None:
        tx.record(area.registered(), area_path=area.path, aggregate_id=area.code)

    async def get_area(self, *, ctx: Context, code: str) -> Area:
        area = await self.store.find_area(code)
        if area is None or not ctx.principal.covers(area.path):
            raise NotFound("区域不存在", field="code")
        return Area.model_validate(area)

    async def list_children(self, *, ctx: Context, parent: str) -> list[Area]:
        await self.get_area(ctx=ctx, code=parent)
        return [Area.model_validate(a) for a in await self.store.children(parent) if ctx.principal.covers(a.path)]

    async def create_area(self, *, ctx: Context, data: AreaIn) -> Area:
        ctx.principal.require(Action.REGISTRY_WRITE)
        domain.refuse_national_level(data.level)
        body = partial(self._create_area, ctx.principal, data)
        return await run_once(self.uow, ctx=ctx, scope="areas.create", request=data, result_model=Area, body=body)

    async def _create_area(self, principal: Principal, data: AreaIn, tx: Tx) -> Area:
        parent = await self.store.find_area(data.parent, tx.session)
        if parent is None:
            raise InvalidInput("上级区域不存在", field="parent")
        principal.require_area(parent.path, field="parent")
        area = domain.child_area(parent, code=data.code, name=data.name, level=data.level)
        if await self.store.find_area(data.code, tx.session) is not None:
            raise Conflict("区域代码已存在", field="code")
        await self.store.insert_area(area, tx.session)
        self._record_area(tx, area)
        return Area.model_validate(area)

    # households ----------------------------------------------------------
    async def register_household(self, *, ctx: Context, data: HouseholdIn) -> Household:
        ctx.principal.require(Action.REGISTRY_WRITE)
        body = partial(self._register_household, ctx.principal, data)
        return await run_once(
            self.uow, ctx=ctx, scope="households.create", request=data, result_model=Household, body=body
        )

    async def _register_household(self, principal: Principal, data: HouseholdIn, tx: Tx) -> Household:
        outcome = await self._insert_households(principal, [(0, data)], tx)
        household = await self.store.find_household(outcome.single(), tx.session)
        assert household is not None
        return Household.of(household)

    async def register_households_batch(self, *, ctx: Context, rows: list[dict[str, Any]]) -> BatchResult:
        ctx.principal.require(Action.REGISTRY_WRITE)
        apply = partial(self._insert_households, ctx.principal)
        return await apply_many_once(
            self.uow,
            ctx=ctx,
            scope="households.batch",
            rows=rows,
            model=HouseholdIn,
            apply=apply,
            max_items=self.batch_max,
        )

    async def _insert_households(self, principal: Principal, rows: list[tuple[int, HouseholdIn]], tx: Tx) -> Outcome:
        outcome = Outcome()
        codes = sorted({c for _, r in rows for c in (r.community_code, r.grid_code, r.building_code)})
        areas = await self.store.find_areas(codes, tx.session)
        for index, data in rows:
            try:
                domain.check_registered_on(data.registered_on, business_day(tx.now))
                building = domain.placement(
                    principal,
                    areas,
                    community_code=data.community_code,
                    grid_code=data.grid_code,
                    building_code=data.building_code,
                )
            except DomainError as err:
                outcome.reject(index, err)
                continue
            household = HouseholdRecord(
                id=new_id(),
                kind=data.kind,
                community_code=data.community_code,
                grid_code=data.grid_code,
                building_code=data.building_code,
                room=data.room,
                registered_on=data.registered_on or business_day(tx.now),
                area_path=building.path,
            )
            await self.store.insert_household(household, tx.session)
            tx.record(household.registered(), area_path=household.area_path, aggregate_id=household.id)
            outcome.accept(index, household.id)
        return outcome

    async def get_household(self, *, ctx: Context, household_id: str) -> Household:
        household = ctx.principal.found(await self.store.find_household(household_id), "该户", field="household_id")
        residents = [Resident.model_validate(r) for r in await self.store.household_residents(household_id)]
        return Household.of(household, residents)

    async def list_households(self, *, ctx: Context, area: str, after: str | None, limit: int) -> list[Household]:
        area_record = await self.store.find_area(area)
        if area_record is None:
            raise NotFound("区域不存在", field="area")
        ctx.principal.require_area(area_record.path, field="area")
        return [Household.of(h) for h in await self.store.list_households(area, after=after, limit=limit)]

    # residents -----------------------------------------------------------
    async def register_resident(self, *, ctx: Context, data: ResidentIn) -> Resident:
        ctx.principal.require(Action.REGISTRY_WRITE)
        body = partial(self._register_resident, ctx.principal, data)
        return await run_once(
            self.uow, ctx=ctx, scope="residents.create", request=data, result_model=Resident, body=body
        )

    async def _register_resident(self, principal: Principal, data: ResidentIn, tx: Tx) -> Resident:
        outcome = await self._insert_residents(principal, [(0, data)], tx)
        resident = await self.store.find_resident(outcome.single(), tx.session)
        assert resident is not None
        return Resident.model_validate(resident)

    async def register_residents_batch(self, *, ctx: Context, rows: list[dict[str, Any]]) -> BatchResult:
        ctx.principal.require(Action.REGISTRY_WRITE)
        apply = partial(self._insert_residents, ctx.principal)
        return await apply_many_once(
            self.uow,
            ctx=ctx,
            scope="residents.batch",
            rows=rows,
            model=ResidentIn,
            apply=apply,
            max_items=self.batch_max,
        )

    async def _insert_residents(self, principal: Principal, rows: list[tuple[int, ResidentIn]], tx: Tx) -> Outcome:
        hashes = {index: keyed_hash(r.national_id, self.pii_key) for index, r in rows}
        outcome = Outcome()
        households = await self.store.find_households(sorted({r.household_id for _, r in rows}), tx.session)
        taken = await self.store.existing_id_hashes(list(hashes.values()), tx.session)
        residents: list[ResidentRecord] = []
        for index, data in rows:
            try:
                household = domain.check_resident_household(
                    principal,
                    households.get(data.household_id),
                    community_code=data.community_code,
                    national_id_hash=hashes[index],
                    taken=taken,
                )
            except DomainError as err:
                outcome.reject(index, err)
                continue
            taken.add(hashes[index])
            resident = domain.new_resident(
                new_id(),
                household,
                name=data.name,
                national_id=parse_national_id(data.national_id),
                national_id_hash=hashes[index],
                phone=data.phone,
                labour_capacity=data.labour_capacity,
                pii_key=self.pii_key,
            )
            residents.append(resident)
            registered = domain.resident_registered(resident, household)
            tx.record(registered, area_path=household.area_path, aggregate_id=household.id)
            outcome.accept(index, resident.id)
        if residents:
            await self.store.insert_residents(residents, tx.session)
        return outcome

    async def get_resident(self, *, ctx: Context, resident_id: str) -> Resident:
        return Resident.model_validate(
            ctx.principal.found(await self.store.find_resident(resident_id), "居民", field="resident_id")
        )

    async def update_resident(self, *, ctx: Context, resident_id: str, data: ResidentUpdate) -> Resident:
        ctx.principal.require(Action.REGISTRY_WRITE)
        work = partial(self._update_resident, ctx.principal, resident_id, data)
        await self.uow.run(work, correlation_id=ctx.correlation_id)
        return await self.get_resident(ctx=ctx, resident_id=resident_id)

    async def _update_resident(self, principal: Principal, resident_id: str, data: ResidentUpdate, tx: Tx) -> None:
        resident = await self._active_resident(principal, resident_id, tx)
        if resident.labour_capacity == data.labour_capacity:
            return  # nothing changes, nothing to tell
        changed = resident.with_labour_capacity(data.labour_capacity)
        await self.store.save_labour_capacity(changed, tx.session)
        tx.record(changed.updated(), area_path=changed.area_path, aggregate_id=changed.household_id)

    async def move_out(self, *, ctx: Context, resident_id: str, data: MoveOut) -> Resident:
        ctx.principal.require(Action.REGISTRY_WRITE)
        domain.check_move_out_day(data.moved_out_on, business_today(self.clock))
        work = partial(self._move_out, ctx.principal, resident_id, data)
        await self.uow.run(work, correlation_id=ctx.correlation_id)
        return await self.get_resident(ctx=ctx, resident_id=resident_id)

    async def _move_out(self, principal: Principal, resident_id: str, data: MoveOut, tx: Tx) -> None:
        resident = await self._active_resident(principal, resident_id, tx)
        household = await self.store.find_household(resident.household_id, tx.session)
        assert household is not None
        gone = resident.moved_out(data.moved_out_on)
        await self.store.save_move_out(gone, tx.session)
        event = gone.moved_out_event(household_kind=household.kind, on=data.moved_out_on, reason=data.reason)
        tx.record(event, area_path=gone.area_path, aggregate_id=gone.household_id)

    async def _active_resident(self, principal: Principal, resident_id: str, tx: Tx) -> ResidentRecord:
        resident = principal.found(await self.store.find_resident(resident_id, tx.session), "居民", field="resident_id")
        resident.require_active()
        return resident
