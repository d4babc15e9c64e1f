"""The 四单 state table: the commands, the states each may start from and the state it leads to,
and the step whose deadline runs in each state. Pure data, no I/O."""

from __future__ import annotations

from enum import StrEnum

from relocation_shared.errors import Conflict
from relocation_shared.events.requests import REQUEST_STATE_LABELS, RequestState, RequestStep


class Command(StrEnum):
    DISPATCH = "dispatch"
    ACCEPT = "accept"
    RESOLVE = "resolve"
    RATE = "rate"
    REOPEN = "reopen"
    ESCALATE = "escalate"
    REPORT = "report"


COMMAND_LABELS = {
    Command.DISPATCH: "派单",
    Command.ACCEPT: "接单",
    Command.RESOLVE: "办结",
    Command.RATE: "评单",
    Command.REOPEN: "重新打开",
    Command.ESCALATE: "吹哨",
    Command.REPORT: "报到",
}

_S = RequestState
# The states each command may start from. Escalation and reporting keep the state.
LEGAL_FROM: dict[Command, frozenset[RequestState]] = {
    Command.DISPATCH: frozenset({_S.SUBMITTED, _S.REOPENED, _S.DISPATCHED}),
    Command.ACCEPT: frozenset({_S.DISPATCHED}),
    Command.RESOLVE: frozenset({_S.ACCEPTED}),
    Command.RATE: frozenset({_S.RESOLVED}),
    Command.REOPEN: frozenset({_S.CLOSED}),
    Command.ESCALATE: frozenset({_S.SUBMITTED, _S.REOPENED, _S.DISPATCHED, _S.ACCEPTED}),
    Command.REPORT: frozenset({_S.SUBMITTED, _S.REOPENED, _S.DISPATCHED, _S.ACCEPTED, _S.RESOLVED}),
}
TARGET: dict[Command, RequestState | None] = {
    Command.DISPATCH: _S.DISPATCHED,
    Command.ACCEPT: _S.ACCEPTED,
    Command.RESOLVE: _S.RESOLVED,
    Command.RATE: _S.CLOSED,
    Command.REOPEN: _S.REOPENED,
    Command.ESCALATE: None,
    Command.REPORT: None,
}
# The step whose deadline runs in each state.
STEP_OF_STATE: dict[RequestState, RequestStep | None] = {
    _S.SUBMITTED: RequestStep.DISPATCH,
    _S.REOPENED: RequestStep.DISPATCH,
    _S.DISPATCHED: RequestStep.ACCEPT,
    _S.ACCEPTED: RequestStep.RESOLVE,
    _S.RESOLVED: RequestStep.RATE,
    _S.CLOSED: None,
}


def state_conflict(state: RequestState, what: str) -> Conflict:
    """409 naming the state the request is in, in Chinese."""
    return Conflict(f"该诉求当前状态为「{REQUEST_STATE_LABELS[state]}」,不能{what}", field="state", state=state.value)
