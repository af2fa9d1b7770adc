"""The eFACT invoice lifecycle: state names, codes and the order the law expects.

A state is identified by its *name*; codes are kept as received. ``/estats`` answers
carry the 2025 technical code, older answers the public (BOE-A-2014-10660) one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    SENT = "SENT"
    REGISTERED = "REGISTERED"
    DELIVERED = "DELIVERED"
    ANNOTATED = "ANNOTATED"
    RECEIVED = "RECEIVED"
    ACCEPTED = "ACCEPTED"
    RECOGNISED = "RECOGNISED"
    PAID = "PAID"
    REJECTED = "REJECTED"


@dataclass(frozen=True)
class StateInfo:
    state: State
    public_code: str
    technical_code: str
    rank: int  # position in the coherent lifecycle order
    settable: bool  # accepted by PATCH /factura/:id
    mandatory: bool  # the entity must report it (when it happens, for REJECTED)


STATE_TABLE: dict[State, StateInfo] = {
    info.state: info
    for info in (
        StateInfo(State.SENT, "1000", "1000", 0, False, False),
        StateInfo(State.REGISTERED, "1200", "1200", 1, False, False),
        StateInfo(State.DELIVERED, "1200", "1250", 2, True, False),
        StateInfo(State.ANNOTATED, "1300", "1400", 3, True, True),
        StateInfo(State.RECEIVED, "1300", "2100", 4, True, False),
        StateInfo(State.ACCEPTED, "1300", "2300", 5, True, False),
        StateInfo(State.RECOGNISED, "2400", "2400", 6, True, True),
        StateInfo(State.PAID, "2500", "2500", 7, True, True),
        StateInfo(State.REJECTED, "2600", "2600", 8, True, True),
    )
}

TERMINAL_STATES: frozenset[State] = frozenset({State.PAID, State.REJECTED})
SETTABLE_STATES: frozenset[State] = frozenset(s for s, i in STATE_TABLE.items() if i.settable)
# States that take an invoice out of GET /factures-pendents.
DOWNLOADED_STATES: frozenset[State] = frozenset({State.DELIVERED, State.ANNOTATED})
# The states rcflow pushes from the accounting system, in lifecycle order.
PUSHABLE_ORDER: tuple[State, ...] = (
    State.ANNOTATED,
    State.RECEIVED,
    State.ACCEPTED,
    State.RECOGNISED,
    State.PAID,
)


def parse_state(value: str) -> State:
    """Read a state name as the hub writes it (``"ANNOTATED "`` included)."""
    return State(value.strip().upper())


def codes_for(state: State) -> frozenset[str]:
    """Every code the hub may send for ``state`` (technical and public)."""
    info = STATE_TABLE[state]
    return frozenset({info.technical_code, info.public_code})


def rank(state: State) -> int:
    return STATE_TABLE[state].rank
