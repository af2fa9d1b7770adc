"""The eFACT lifecycle: which ``rcflow.lifecycle`` states eFACT knows, their codes, which PATCH sets.

A state is identified by its *name* (``rcflow.lifecycle.State``, re-exported here); codes are
kept as received. ``/estats`` answers carry the 2025 technical code, older answers the public
(BOE-A-2014-10660) one. eFACT has no CANCELLED: it is not in this table, and a hub answer naming
it is an unknown state here.
"""

from __future__ import annotations

from dataclasses import dataclass

from rcflow.lifecycle import LIFECYCLE, PUSHABLE_ORDER, State

__all__ = [
    "DOWNLOADED_STATES", "PUSHABLE_ORDER", "SETTABLE_STATES", "STATE_TABLE", "TERMINAL_STATES",
    "State", "StateInfo", "codes_for", "parse_state", "rank",
]  # fmt: skip


@dataclass(frozen=True)
class StateInfo:
    state: State
    technical_code: str
    settable: bool  # accepted by PATCH /factura/:id

    @property
    def public_code(self) -> str:
        return LIFECYCLE[self.state].public_code

    @property
    def rank(self) -> int:  # position in the coherent lifecycle order
        return LIFECYCLE[self.state].rank

    @property
    def mandatory(self) -> bool:  # the entity must report it (when it happens, for REJECTED)
        return LIFECYCLE[self.state].mandatory


STATE_TABLE: dict[State, StateInfo] = {
    info.state: info
    for info in (
        StateInfo(State.SENT, "1000", False),
        StateInfo(State.REGISTERED, "1200", False),
        StateInfo(State.DELIVERED, "1250", True),
        StateInfo(State.ANNOTATED, "1400", True),
        StateInfo(State.RECEIVED, "2100", True),
        StateInfo(State.ACCEPTED, "2300", True),
        StateInfo(State.RECOGNISED, "2400", True),
        StateInfo(State.PAID, "2500", True),
        StateInfo(State.REJECTED, "2600", True),
    )
}

TERMINAL_STATES: frozenset[State] = frozenset({State.PAID, State.REJECTED})
SETTABLE_STATES: frozenset[State] = frozenset(s for s, i in STATE_TABLE.items() if i.settable)
# States that take an invoice out of GET /factures-pendents.
DOWNLOADED_STATES: frozenset[State] = frozenset({State.DELIVERED, State.ANNOTATED})


def parse_state(value: str) -> State:
    """Read a state name as the hub writes it (``"ANNOTATED "`` included); ValueError if eFACT
    has no such state."""
    state = State(value.strip().upper())
    if state not in STATE_TABLE:
        raise ValueError(f"{value!r} is not an eFACT state")
    return state


def codes_for(state: State) -> frozenset[str]:
    """Every code the hub may send for ``state`` (technical and public)."""
    info = STATE_TABLE[state]
    return frozenset({info.technical_code, info.public_code})


def rank(state: State) -> int:
    return STATE_TABLE[state].rank
