"""Use cases of the labour-force ledger (就业需求台账).

The roster of households and labour-force residents is kept from the registry's events; spells
and trainings are recorded through the API. Each use case runs in one unit of work: the state
change, the household ledger and the events they mean are committed together."""

from __future__ import annotations

from datetime import date
from typing import Any

from employment_service.models import (
    EmploymentIn,
    EndEmploymentIn,
    HouseholdEmployment,
    HouseholdLedger,
    RosterResident,
    Spell,
    Training,
    TrainingIn,
)
from employment_service.repository import Doc, EmploymentRepository
from relocation_shared.areas import path_of_code
from relocation_shared.auth import Action, Principal
from relocation_shared.batch import BatchResult, Outcome, parse_rows
from relocation_shared.clock import Clock, business_day, business_today
from relocation_shared.errors import Conflict, DomainError, InvalidInput, NotFound
from relocation_shared.events import Envelope
from relocation_shared.events.employment import (
    EmploymentEnded,
    HouseholdLabourChanged,
    TrainingCompleted,
    WorkerEmployed,
)
from relocation_shared.events.governance import (
    HouseholdRegistered,
    ResidentMovedOut,
    ResidentRegistered,
    ResidentUpdated,
)
from relocation_shared.ids import new_id
from relocation_shared.outbox import Tx, UnitOfWork

END_MOVED_OUT = "迁出"
END_LABOUR_LOST = "丧失劳动能力"


class EmploymentService:
    def __init__(self, *, uow: UnitOfWork, repo: EmploymentRepository, clock: Clock, batch_max: int = 500) -> None:
        self.uow = uow
        self.repo = repo
        self.clock = clock
        self.batch_max = batch_max

    # the household ledger --------------------------------------------------
    async def _adjust(self, tx: Tx, household_id: str, *, labour: int = 0, employed: int = 0, cause: str) -> None:
        doc = await self.repo.get_household(household_id, tx.session)
        if doc is None:
            raise NotFound("该户不在就业台账中", field="household_id")
        ledger = HouseholdLedger(
            household_id=household_id,
            labour_count=doc["labour_count"],
            employed_count=doc["employed_count"],
            zero_since=doc.get("zero_since"),
        )
        previous_labour = ledger.labour_count
        event = ledger.adjust(labour=labour, employed=employed, cause=cause, now=tx.now)
        await self.repo.save_ledger(ledger, tx.session)
        if labour:
            tx.record(
                HouseholdLabourChanged(
                    household_id=household_id,
                    labour_count=ledger.labour_count,
                    previous_labour_count=previous_labour,
                    employed_count=ledger.employed_count,
                ),
                area_path=doc["area_path"],
                aggregate_id=household_id,
            )
        if event is not None:
            tx.record(event, area_path=doc["area_path"], aggregate_id=household_id)

    async def _end_spell(
        self, tx: Tx, spell: Doc, *, ended_on: date, reason: str, labour: int = 0, cause: str = "employment_ended"
    ) -> None:
        """Close a spell. `labour=-1` when the worker also leaves the labour force (moved out, lost
        labour capacity): both counts move in one step, so a household whose only worker leaves
        is never seen, even for an instant, as having labour and nobody employed (no false alert)."""
        await self.repo.close_spell(spell["_id"], ended_on=ended_on.isoformat(), reason=reason, session=tx.session)
        await self.repo.update_resident(spell["resident_id"], {"open_spell_id": None}, tx.session)
        tx.record(
            EmploymentEnded(
                spell_id=spell["_id"],
                resident_id=spell["resident_id"],
                household_id=spell["household_id"],
                employment_type=spell["employment_type"],
                organised_export=spell["organised_export"],
                monthly_wage=spell["monthly_wage"],
                started_on=date.fromisoformat(spell["started_on"]),
                ended_on=ended_on,
                reason=reason,
            ),
            area_path=spell["area_path"],
            aggregate_id=spell["household_id"],
        )
        # the cause first, then the alert it may raise
        await self._adjust(tx, spell["household_id"], labour=labour, employed=-1, cause=cause)

    # roster, from the registry's events ------------------------------------
    async def on_household_registered(self, tx: Tx, env: Envelope, p: HouseholdRegistered) -> None:
        await self.repo.upsert_household(
            {"_id": p.household_id, "area_path": list(env.area_path), "kind": p.kind.value}, tx.session
        )

    async def on_resident_registered(self, tx: Tx, env: Envelope, p: ResidentRegistered) -> None:
        if await self.repo.get_resident(p.resident_id, tx.session) is not None:
            return
        await self.repo.insert_resident(
            {
                "_id": p.resident_id,
                "household_id": p.household_id,
                "area_path": list(env.area_path),
                "labour_capacity": p.labour_capacity,
                "active": True,
                "open_spell_id": None,
                "trained": False,
            },
            tx.session,
        )
        if p.labour_capacity:
            await self._adjust(tx, p.household_id, labour=+1, cause="resident_registered")

    async def on_resident_updated(self, tx: Tx, env: Envelope, p: ResidentUpdated) -> None:
        resident = await self.repo.get_resident(p.resident_id, tx.session)
        if resident is None:
            raise NotFound("居民不在就业台账中", field="resident_id")
        if not resident["active"] or resident["labour_capacity"] == p.labour_capacity:
            return
        await self.repo.update_resident(p.resident_id, {"labour_capacity": p.labour_capacity}, tx.session)
        if not p.labour_capacity and resident.get("open_spell_id"):
            spell = await self.repo.get_spell(resident["open_spell_id"], tx.session)
            assert spell is not None
            await self._end_spell(
                tx,
                spell,
                ended_on=business_day(env.occurred_at),
                reason=END_LABOUR_LOST,
                labour=-1,
                cause="labour_capacity_changed",
            )
            return
        await self._adjust(tx, p.household_id, labour=+1 if p.labour_capacity else -1, cause="labour_capacity_changed")

    async def on_resident_moved_out(self, tx: Tx, env: Envelope, p: ResidentMovedOut) -> None:
        resident = await self.repo.get_resident(p.resident_id, tx.session)
        if resident is None:
            raise NotFound("居民不在就业台账中", field="resident_id")
        if not resident["active"]:
            return
        await self.repo.update_resident(p.resident_id, {"active": False}, tx.session)
        labour = -1 if resident["labour_capacity"] else 0
        if resident.get("open_spell_id"):
            spell = await self.repo.get_spell(resident["open_spell_id"], tx.session)
            assert spell is not None
            await self._end_spell(
                tx, spell, ended_on=p.moved_out_on, reason=END_MOVED_OUT, labour=labour, cause="resident_moved_out"
            )
        elif labour:
            await self._adjust(tx, p.household_id, labour=labour, cause="resident_moved_out")

    # employment spells -----------------------------------------------------
    async def employ(self, *, principal: Principal, data: EmploymentIn, correlation_id: str | None = None) -> Spell:
        outcome = await self._employ(principal=principal, rows=[(0, data)], correlation_id=correlation_id)
        spell = await self.repo.get_spell(outcome.single())
        assert spell is not None
        return Spell.from_doc(spell)

    async def employ_batch(
        self, *, principal: Principal, rows: list[dict[str, Any]], correlation_id: str | None = None
    ) -> BatchResult:
        good, bad = parse_rows(rows, EmploymentIn, max_items=self.batch_max)
        outcome = await self._employ(principal=principal, rows=good, correlation_id=correlation_id)
        return outcome.result(bad)

    async def _employ(
        self, *, principal: Principal, rows: list[tuple[int, EmploymentIn]], correlation_id: str | None
    ) -> Outcome:
        principal.require(Action.EMPLOYMENT_WRITE)

        async def work(tx: Tx) -> Outcome:
            outcome = Outcome()
            residents = await self.repo.get_residents(sorted({r.resident_id for _, r in rows}), tx.session)
            for index, data in rows:
                try:
                    resident = self._check_worker(principal, residents.get(data.resident_id))
                    if data.started_on > business_today(self.clock):
                        raise InvalidInput("开始日期不能晚于今天", field="started_on")
                    spell_id = new_id()
                    if not await self.repo.claim_open_spell(data.resident_id, spell_id, tx.session):
                        raise Conflict("该居民已有在岗就业记录,请先结束原记录", field="resident_id")
                except DomainError as err:
                    outcome.reject(index, err)
                    continue
                resident["open_spell_id"] = spell_id
                doc = {
                    "_id": spell_id,
                    "resident_id": data.resident_id,
                    "household_id": resident["household_id"],
                    "area_path": resident["area_path"],
                    "employment_type": data.employment_type.value,
                    "organised_export": data.organised_export,
                    "employer": data.employer,
                    "destination": data.destination,
                    "monthly_wage": data.monthly_wage,
                    "started_on": data.started_on.isoformat(),
                    "ended_on": None,
                    "end_reason": None,
                    "open": True,
                    "recorded_by": principal.subject,
                }
                await self.repo.insert_spell(doc, tx.session)
                tx.record(
                    WorkerEmployed(
                        spell_id=spell_id,
                        resident_id=data.resident_id,
                        household_id=resident["household_id"],
                        employment_type=data.employment_type,
                        organised_export=data.organised_export,
                        employer=data.employer,
                        destination=data.destination,
                        monthly_wage=data.monthly_wage,
                        started_on=data.started_on,
                    ),
                    area_path=resident["area_path"],
                    aggregate_id=resident["household_id"],
                )
                await self._adjust(tx, resident["household_id"], employed=+1, cause="worker_employed")
                outcome.accept(index, spell_id)
            return outcome

        return await self.uow.run(work, correlation_id=correlation_id)

    @staticmethod
    def _check_worker(principal: Principal, resident: Doc | None) -> Doc:
        if resident is None:
            raise NotFound("居民不存在或尚未同步到就业台账", field="resident_id")
        principal.require_area(resident["area_path"], field="resident_id")
        if not resident["active"]:
            raise Conflict("该居民已迁出", field="resident_id")
        if not resident["labour_capacity"]:
            raise InvalidInput("该居民无劳动能力,不属于劳动力", field="resident_id")
        return resident

    async def end_employment(
        self, *, principal: Principal, spell_id: str, data: EndEmploymentIn, correlation_id: str | None = None
    ) -> Spell:
        principal.require(Action.EMPLOYMENT_WRITE)

        async def work(tx: Tx) -> None:
            spell = await self.repo.get_spell(spell_id, tx.session)
            if spell is None or not principal.covers(spell["area_path"]):
                raise NotFound("就业记录不存在", field="spell_id")
            if not spell["open"]:
                raise Conflict("该就业记录已结束", field="spell_id", state="ended")
            if data.ended_on < date.fromisoformat(spell["started_on"]):
                raise InvalidInput("结束日期早于开始日期", field="ended_on", started_on=spell["started_on"])
            if data.ended_on > business_today(self.clock):
                raise InvalidInput("结束日期不能晚于今天", field="ended_on")
            await self._end_spell(tx, spell, ended_on=data.ended_on, reason=data.reason)

        await self.uow.run(work, correlation_id=correlation_id)
        return await self.get_spell(principal=principal, spell_id=spell_id)

    async def get_spell(self, *, principal: Principal, spell_id: str) -> Spell:
        doc = await self.repo.get_spell(spell_id)
        if doc is None:
            raise NotFound("就业记录不存在", field="spell_id")
        principal.require_visible(doc["area_path"], "就业记录")
        return Spell.from_doc(doc)

    async def resident_history(self, *, principal: Principal, resident_id: str) -> tuple[list[Spell], list[Training]]:
        resident = await self.roster_resident(principal=principal, resident_id=resident_id)
        spells = [Spell.from_doc(d) for d in await self.repo.resident_spells(resident.id)]
        trainings = [Training.from_doc(d) for d in await self.repo.resident_trainings(resident.id)]
        return spells, trainings

    # training ----------------------------------------------------------------
    async def record_training(
        self, *, principal: Principal, data: TrainingIn, correlation_id: str | None = None
    ) -> Training:
        outcome = await self._train(principal=principal, rows=[(0, data)], correlation_id=correlation_id)
        doc = await self.repo.get_training(outcome.single())
        assert doc is not None
        return Training.from_doc(doc)

    async def record_trainings_batch(
        self, *, principal: Principal, rows: list[dict[str, Any]], correlation_id: str | None = None
    ) -> BatchResult:
        good, bad = parse_rows(rows, TrainingIn, max_items=self.batch_max)
        outcome = await self._train(principal=principal, rows=good, correlation_id=correlation_id)
        return outcome.result(bad)

    async def _train(
        self, *, principal: Principal, rows: list[tuple[int, TrainingIn]], correlation_id: str | None
    ) -> Outcome:
        principal.require(Action.EMPLOYMENT_WRITE)

        async def work(tx: Tx) -> Outcome:
            outcome = Outcome()
            residents = await self.repo.get_residents(sorted({r.resident_id for _, r in rows}), tx.session)
            for index, data in rows:
                try:
                    resident = residents.get(data.resident_id)
                    if resident is None:
                        raise NotFound("居民不存在或尚未同步到就业台账", field="resident_id")
                    principal.require_area(resident["area_path"], field="resident_id")
                    if not resident["active"]:
                        raise Conflict("该居民已迁出", field="resident_id")
                    if data.completed_on > business_today(self.clock):
                        raise InvalidInput("结业日期不能晚于今天", field="completed_on")
                except DomainError as err:
                    outcome.reject(index, err)
                    continue
                first = not resident.get("trained", False)
                if first:
                    resident["trained"] = True
                    await self.repo.update_resident(data.resident_id, {"trained": True}, tx.session)
                tid = new_id()
                await self.repo.insert_training(
                    {
                        "_id": tid,
                        "resident_id": data.resident_id,
                        "household_id": resident["household_id"],
                        "area_path": resident["area_path"],
                        "course": data.course,
                        "hours": data.hours,
                        "certificate": data.certificate,
                        "completed_on": data.completed_on.isoformat(),
                    },
                    tx.session,
                )
                tx.record(
                    TrainingCompleted(
                        training_id=tid,
                        resident_id=data.resident_id,
                        household_id=resident["household_id"],
                        course=data.course,
                        hours=data.hours,
                        certificate=data.certificate,
                        completed_on=data.completed_on,
                        first_training=first,
                    ),
                    area_path=resident["area_path"],
                    aggregate_id=resident["household_id"],
                )
                outcome.accept(index, tid)
            return outcome

        return await self.uow.run(work, correlation_id=correlation_id)

    # queries -----------------------------------------------------------------
    async def roster_resident(self, *, principal: Principal, resident_id: str) -> RosterResident:
        doc = await self.repo.get_resident(resident_id)
        if doc is None:
            raise NotFound("居民不存在或尚未同步到就业台账", field="resident_id")
        principal.require_visible(doc["area_path"], "居民")
        return RosterResident.from_doc(doc)

    async def household_employment(self, *, principal: Principal, household_id: str) -> HouseholdEmployment:
        doc = await self.repo.get_household(household_id)
        if doc is None:
            raise NotFound("该户不存在或尚未同步到就业台账", field="household_id")
        principal.require_visible(doc["area_path"], "该户")
        return HouseholdEmployment.from_doc(doc)

    async def zero_employment_households(
        self, *, principal: Principal, area: str, limit: int
    ) -> list[HouseholdEmployment]:
        try:
            path = path_of_code(area)
        except ValueError:
            raise InvalidInput("区域代码格式无效", field="area") from None
        # the area's own path: a city officer sees the zero list of a county in their city
        principal.require_area(path, field="area")
        return [HouseholdEmployment.from_doc(d) for d in await self.repo.zero_households(area, limit=limit)]
