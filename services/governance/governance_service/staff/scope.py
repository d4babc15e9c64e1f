"""Where and as whom a community use case acts: the area a list is asked for and the household a
command is about must exist and lie in the user's areas (read through the registry's store); a
command runs in one transaction as the acting user. The rules of who staffs which area are in
staff/domain.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

from governance_service.registry.repository import RegistryStore, Session
from governance_service.staff.domain import Actor, actor_of
from relocation_shared.auth import Action, Principal
from relocation_shared.context import Context
from relocation_shared.errors import NotFound
from relocation_shared.mongo import Doc
from relocation_shared.outbox import Tx, UnitOfWork

T = TypeVar("T")
# A command's transaction body: (user, the role they act in, transaction) → result.
Body = Callable[[Principal, Actor, Tx], Awaitable[T]]


async def listed_area(registry: RegistryStore, principal: Principal, code: str) -> Doc:
    """The area a list endpoint is asked for (its `area` parameter): 404 when there is none,
    403 when it lies outside the user's areas."""
    area = await registry.get_area(code)
    if area is None:
        raise NotFound("区域不存在", field="area")
    principal.require_area(area["path"], field="area")
    return area


async def household_in_scope(registry: RegistryStore, principal: Principal, household_id: str, session: Session) -> Doc:
    """The household a command is about (its `household_id`): 404 when there is none, 403 when
    it lies outside the user's areas."""
    household = await registry.get_household(household_id, session)
    if household is None:
        raise NotFound("该户不存在", field="household_id")
    principal.require_area(household["area_path"], field="household_id")
    return household


async def run_command(uow: UnitOfWork, ctx: Context, action: Action, body: Callable[[Tx], Awaitable[T]]) -> T:
    """A command of a community use case: the user must be allowed `action`; the body runs in
    one transaction (retried by the unit of work: no side effects outside it)."""
    ctx.principal.require(action)
    return await uow.run(body, correlation_id=ctx.correlation_id)


async def as_actor(uow: UnitOfWork, ctx: Context, action: Action, body: Body[T]) -> T:
    """`run_command`, the body given the user and the role they act in (staff/domain.py's
    `actor_of`)."""
    ctx.principal.require(action)
    actor = actor_of(ctx.principal, action)
    return await uow.run(partial(body, ctx.principal, actor), correlation_id=ctx.correlation_id)
