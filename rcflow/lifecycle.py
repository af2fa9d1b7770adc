"""The invoice lifecycle as rcflow and the warehouse speak of it, whatever the hub.

State names are rcflow's vocabulary (stored in ``raw.invoice_states.state``,
``raw.invoices.hub_state``, ``ops.accounting_events.state`` and the view ``ops.lifecycle``);
each connector maps its hub's codes onto them. Public codes are BOE-A-2014-10660's, which eFACT
and FACe both use. ``CANCELLED`` (FACe's 3100, an accepted cancellation request) is final and
takes the invoice out of the legal figures, like ``REJECTED``.

Imports nothing from rcflow: every layer may use it.
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
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class Stage:
    state: State
    public_code: str  # BOE-A-2014-10660
    rank: int  # position in the coherent lifecycle order (ops.lifecycle.state_rank)
    mandatory: bool  # the entity must report it (when it happens, for REJECTED)
    pushable: bool  # an accounting event rcflow sends to the hub


LIFECYCLE: dict[State, Stage] = {
    stage.state: stage
    for stage in (
        Stage(State.SENT, "1000", 0, False, False),
        Stage(State.REGISTERED, "1200", 1, False, False),
        Stage(State.DELIVERED, "1200", 2, False, False),
        Stage(State.ANNOTATED, "1300", 3, True, True),
        Stage(State.RECEIVED, "1300", 4, False, True),
        Stage(State.ACCEPTED, "1300", 5, False, True),
        Stage(State.RECOGNISED, "2400", 6, True, True),
        Stage(State.PAID, "2500", 7, True, True),
        Stage(State.REJECTED, "2600", 8, True, True),
        Stage(State.CANCELLED, "3100", 9, False, False),
    )
}

FINAL_STATES: frozenset[State] = frozenset({State.PAID, State.REJECTED, State.CANCELLED})
# The states rcflow pushes from the accounting system, in lifecycle order (REJECTED apart: final).
PUSHABLE_ORDER: tuple[State, ...] = (
    State.ANNOTATED, State.RECEIVED, State.ACCEPTED, State.RECOGNISED, State.PAID,
)  # fmt: skip


def parse_state(value: str) -> State:
    """A state name as written by a hub or a person (``"annotated "`` included); ValueError if unknown."""
    return State(value.strip().upper())


def rank(state: State) -> int:
    return LIFECYCLE[state].rank
