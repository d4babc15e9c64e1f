"""Use cases of the labour-force ledger (就业需求台账).

The roster of households and labour-force residents is kept from the registry's events; spells
and trainings are recorded through the API. Each use case runs in one unit of work: the state
change, the household ledger and the events they mean are committed together. The rules are in
domain.py, the documents in repository.py."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

from employment_service.domain import (
    END_LABOUR_LOST,
    END_MOVED_OUT,
    EmploymentSpell,
    TrainingRecord,
    Worker,
    check_start,
    check_trainee,
    check_worker,
)
from employment_service.models import (
    EmploymentIn,
    EndEmploymentIn,
    HouseholdEmployment,
    RosterResident,
    Spell,
    Training,
    TrainingIn,
)
from employment_service.repository import EmploymentStore
from relocation_shared.areas import path_of_code
from relocation_shared.auth import Action, Principal
from relocation_shared.batch import BatchResult, Outcome
from relocation_shared.clock import Clock, business_day, business_today
from relocation_shared.context import Context
from relocation_shared.errors import Conflict, DomainError, InvalidInput, NotFound
from relocation_shared.events import Envelope
from relocation_shared.events.governance import (
    HouseholdRegistered,
    ResidentMovedOut,
    ResidentRegistered,
    ResidentUpdated,
)
from relocation_shared.idempotency import apply_many_once, run_once
from relocation_shared.ids import new_id
from relocation_shared.outbox import Tx, UnitOfWork


class EmploymentService:
    def __init__(self, *, uow: UnitOfWork, repo: EmploymentStore, clock: Clock, batch_max: int = 500) -> None:
        self.uow = uow
        self.repo = repo
        self.clock = clock
        self.batch_max = batch_max

    # the household ledger --------------------------------------------------
    async def _adjust(self, tx: Tx, household_id: str, *, labour: int = 0, employed: int = 0, cause: str) -> None:
        ledger = await self.repo.get_household(household_id, tx.session)
        if ledger is None:
            raise NotFound("该户不在就业台账中", field="household_id")
        events = ledger.change(labour=labour, employed=employed, cause=cause, now=tx.now)
        await self.repo.save_ledger(ledger, tx.session)
        for event in events:
            tx.record(event, area_path=ledger.area_path, aggregate_id=household_id)

    async def _end_spell(
        self,
        tx: Tx,
        spell: EmploymentSpell,
        *,
        ended_on: date,
        reason: str,
        labour: int = 0,
        cause: str = "employment_ended",
    ) -> None:
        """Close a spell. `labour=-1` when the worker also leaves the labour force (moved out, lost
        labour capacity): both counts move in one step, so a household whose only worker leaves
        is never seen, even for an instant, as having labour and nobody employed (no false alert)."""
        await self.repo.close_spell(spell.id, ended_on=ended_on, reason=reason, session=tx.session)
        await self.repo.release_open_spell(spell.resident_id, tx.session)
        tx.record(
            spell.ended(ended_on=ended_on, reason=reason), area_path=spell.area_path, aggregate_id=spell.household_id
        )
        # the cause first, then the alert it may raise
        await self._adjust(tx, spell.household_id, labour=labour, employed=-1, cause=cause)

    # roster, from the registry's events ------------------------------------
    async def on_household_registered(self, tx: Tx, env: Envelope, p: HouseholdRegistered) -> None:
        await self.repo.upsert_household(
            p.household_id, area_path=list(env.area_path), kind=p.kind.value, session=tx.session
        )

    async def on_resident_registered(self, tx: Tx, env: Envelope, p: ResidentRegistered) -> None:
        if await self.repo.get_resident(p.resident_id, tx.session) is not None:
            return
        worker = Worker(
            id=p.resident_id,
            household_id=p.household_id,
            area_path=list(env.area_path),
            labour_capacity=p.labour_capacity,
        )
        await self.repo.insert_resident(worker, tx.session)
        if p.labour_capacity:
            await self._adjust(tx, p.household_id, labour=+1, cause="resident_registered")

    async def _open_spell_of(self, tx: Tx, worker: Worker) -> EmploymentSpell | None:
        if not worker.open_spell_id:
            return None
        spell = await self.repo.get_spell(worker.open_spell_id, tx.session)
        assert spell is not None
        return spell

    async def on_resident_updated(self, tx: Tx, env: Envelope, p: ResidentUpdated) -> None:
        worker = await self.repo.get_resident(p.resident_id, tx.session)
        if worker is None:
            raise NotFound("居民不在就业台账中", field="resident_id")
        if not worker.active or worker.labour_capacity == p.labour_capacity:
            return
        await self.repo.set_labour_capacity(p.resident_id, p.labour_capacity, tx.session)
        spell = await self._open_spell_of(tx, worker) if not p.labour_capacity else None
        if spell is not None:
            ended_on = business_day(env.occurred_at)
            await self._end_spell(
                tx, spell, ended_on=ended_on, reason=END_LABOUR_LOST, labour=-1, cause="labour_capacity_changed"
            )
            return
        await self._adjust(tx, p.household_id, labour=+1 if p.labour_capacity else -1, cause="labour_capacity_changed")

    async def on_resident_moved_out(self, tx: Tx, env: Envelope, p: ResidentMovedOut) -> None:
        worker = await self.repo.get_resident(p.resident_id, tx.session)
        if worker is None:
            raise NotFound("居民不在就业台账中", field="resident_id")
        if not worker.active:
            return
        await self.repo.mark_moved_out(p.resident_id, tx.session)
        labour = -1 if worker.labour_capacity else 0
        spell = await self._open_spell_of(tx, worker)
        if spell is not None:
            await self._end_spell(
                tx, spell, ended_on=p.moved_out_on, reason=END_MOVED_OUT, labour=labour, cause="resident_moved_out"
            )
        elif labour:
            await self._adjust(tx, p.household_id, labour=labour, cause="resident_moved_out")

    # employment spells -----------------------------------------------------
    async def employ(self, *, ctx: Context, data: EmploymentIn) -> Spell:
        ctx.principal.require(Action.EMPLOYMENT_WRITE)
        body = partial(self._employ_one, ctx.principal, data)
        return await run_once(
            self.uow, ctx=ctx, scope="employments.create", request=data, result_model=Spell, body=body
        )

    async def _employ_one(self, principal: Principal, data: EmploymentIn, tx: Tx) -> Spell:
        outcome = await self._employ_rows(principal, [(0, data)], tx)
        spell = await self.repo.get_spell(outcome.single(), tx.session)
        assert spell is not None
        return Spell.of(spell)

    async def employ_batch(self, *, ctx: Context, rows: list[dict[str, Any]]) -> BatchResult:
        ctx.principal.require(Action.EMPLOYMENT_WRITE)
        apply = partial(self._employ_rows, ctx.principal)
        return await apply_many_once(
            self.uow,
            ctx=ctx,
            scope="employments.batch",
            rows=rows,
            model=EmploymentIn,
            apply=apply,
            max_items=self.batch_max,
        )

    async def _employ_rows(self, principal: Principal, rows: list[tuple[int, EmploymentIn]], tx: Tx) -> Outcome:
        outcome = Outcome()
        workers = await self.repo.get_residents(sorted({r.resident_id for _, r in rows}), tx.session)
        for index, data in rows:
            try:
                worker = check_worker(principal, workers.get(data.resident_id))
                check_start(data.started_on, business_today(self.clock))
                spell_id = new_id()
                if not await self.repo.claim_open_spell(data.resident_id, spell_id, tx.session):
                    raise Conflict("该居民已有在岗就业记录,请先结束原记录", field="resident_id")
            except DomainError as err:
                outcome.reject(index, err)
                continue
            worker.open_spell_id = spell_id
            await self._start_spell(tx, principal, worker, spell_id, data)
            outcome.accept(index, spell_id)
        return outcome

    async def _start_spell(
        self, tx: Tx, principal: Principal, worker: Worker, spell_id: str, data: EmploymentIn
    ) -> None:
        spell = EmploymentSpell(
            id=spell_id,
            resident_id=data.resident_id,
            household_id=worker.household_id,
            area_path=worker.area_path,
            employment_type=data.employment_type,
            organised_export=data.organised_export,
            employer=data.employer,
            destination=data.destination,
            monthly_wage=data.monthly_wage,
            started_on=data.started_on,
            recorded_by=principal.subject,
        )
        await self.repo.insert_spell(spell, tx.session)
        tx.record(spell.employed(), area_path=spell.area_path, aggregate_id=spell.household_id)
        await self._adjust(tx, spell.household_id, employed=+1, cause="worker_employed")

    async def end_employment(self, *, ctx: Context, spell_id: str, data: EndEmploymentIn) -> Spell:
        ctx.principal.require(Action.EMPLOYMENT_WRITE)
        await self.uow.run(partial(self._end_by_hand, ctx.principal, spell_id, data), correlation_id=ctx.correlation_id)
        return await self.get_spell(ctx=ctx, spell_id=spell_id)

    async def _end_by_hand(self, principal: Principal, spell_id: str, data: EndEmploymentIn, tx: Tx) -> None:
        spell = principal.found(await self.repo.get_spell(spell_id, tx.session), "就业记录", field="spell_id")
        spell.check_end(data.ended_on, business_today(self.clock))
        await self._end_spell(tx, spell, ended_on=data.ended_on, reason=data.reason)

    async def get_spell(self, *, ctx: Context, spell_id: str) -> Spell:
        return Spell.of(ctx.principal.found(await self.repo.get_spell(spell_id), "就业记录", field="spell_id"))

    async def resident_history(self, *, ctx: Context, resident_id: str) -> tuple[list[Spell], list[Training]]:
        resident = await self.roster_resident(ctx=ctx, resident_id=resident_id)
        spells = [Spell.of(s) for s in await self.repo.resident_spells(resident.id)]
        trainings = [Training.model_validate(t) for t in await self.repo.resident_trainings(resident.id)]
        return spells, trainings

    # training ----------------------------------------------------------------
    async def record_training(self, *, ctx: Context, data: TrainingIn) -> Training:
        ctx.principal.require(Action.EMPLOYMENT_WRITE)
        body = partial(self._train_one, ctx.principal, data)
        return await run_once(
            self.uow, ctx=ctx, scope="trainings.create", request=data, result_model=Training, body=body
        )

    async def _train_one(self, principal: Principal, data: TrainingIn, tx: Tx) -> Training:
        outcome = await self._train_rows(principal, [(0, data)], tx)
        training = await self.repo.get_training(outcome.single(), tx.session)
        assert training is not None
        return Training.model_validate(training)

    async def record_trainings_batch(self, *, ctx: Context, rows: list[dict[str, Any]]) -> BatchResult:
        ctx.principal.require(Action.EMPLOYMENT_WRITE)
        apply = partial(self._train_rows, ctx.principal)
        return await apply_many_once(
            self.uow,
            ctx=ctx,
            scope="trainings.batch",
            rows=rows,
            model=TrainingIn,
            apply=apply,
            max_items=self.batch_max,
        )

    async def _train_rows(self, principal: Principal, rows: list[tuple[int, TrainingIn]], tx: Tx) -> Outcome:
        outcome = Outcome()
        workers = await self.repo.get_residents(sorted({r.resident_id for _, r in rows}), tx.session)
        for index, data in rows:
            try:
                worker = check_trainee(
                    principal, workers.get(data.resident_id), data.completed_on, business_today(self.clock)
                )
            except DomainError as err:
                outcome.reject(index, err)
                continue
            first = not worker.trained
            if first:
                worker.trained = True
                await self.repo.mark_trained(data.resident_id, tx.session)
            training = TrainingRecord(
                id=new_id(),
                resident_id=data.resident_id,
                household_id=worker.household_id,
                area_path=worker.area_path,
                course=data.course,
                hours=data.hours,
                certificate=data.certificate,
                completed_on=data.completed_on,
            )
            await self.repo.insert_training(training, tx.session)
            tx.record(
                training.completed(first_training=first), area_path=worker.area_path, aggregate_id=worker.household_id
            )
            outcome.accept(index, training.id)
        return outcome

    # queries -----------------------------------------------------------------
    async def roster_resident(self, *, ctx: Context, resident_id: str) -> RosterResident:
        worker = await self.repo.get_resident(resident_id)
        if worker is None:
            raise NotFound("居民不存在或尚未同步到就业台账", field="resident_id")
        ctx.principal.require_visible(worker.area_path, "居民")
        return RosterResident.model_validate(worker)

    async def household_employment(self, *, ctx: Context, household_id: str) -> HouseholdEmployment:
        ledger = await self.repo.get_household(household_id)
        if ledger is None:
            raise NotFound("该户不存在或尚未同步到就业台账", field="household_id")
        ctx.principal.require_visible(ledger.area_path, "该户")
        return HouseholdEmployment.of(ledger)

    async def zero_employment_households(self, *, ctx: Context, area: str, limit: int) -> list[HouseholdEmployment]:
        try:
            path = path_of_code(area)
        except ValueError:
            raise InvalidInput("区域代码格式无效", field="area") from None
        # the area's own path: a city officer sees the zero list of a county in their city
        ctx.principal.require_area(path, field="area")
        return [HouseholdEmployment.of(h) for h in await self.repo.zero_households(area, limit=limit)]
