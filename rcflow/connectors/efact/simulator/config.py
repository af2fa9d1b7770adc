"""The simulator's settings: one frozen dataclass, same inputs give the same hub."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import date

from rcflow.connectors.efact.simulator.faults import Faults

DEFAULT_ISSUER = "hub_0012"


def _default_issuers() -> dict[str, str]:
    return {DEFAULT_ISSUER: secrets.token_urlsafe(32)}


@dataclass(frozen=True)
class SimConfig:
    """Everything that shapes a simulated hub.

    ``invoices`` is the size of the pending queue; ``backfill`` invoices are far along their
    lifecycle and never pending (``None``: a tenth of ``invoices``, at least 12);
    ``unregistered`` invoices are stuck in SENT (no registry number: PATCH gives 3005).
    Shares (``*_rate``) are fractions in [0, 1]. ``today`` anchors every generated date
    (``None``: the current date in Europe/Madrid).
    """

    seed: int = 0
    invoices: int = 200
    backfill: int | None = None
    unregistered: int = 3
    entities: int = 5
    today: date | None = None
    issuers: dict[str, str] = field(default_factory=_default_issuers, repr=False)
    clock_offset_seconds: float = 0.0
    leeway_seconds: float = 5.0
    max_token_lifetime: int = 300
    page_size: int = 500
    quirks: bool = True
    legacy_codes: float = 0.1
    face_rate: float = 0.08
    hostile_rate: float = 0.0
    mismatch_rate: float = 0.01
    late_attachment_rate: float = 0.1
    late_attachment_calls: int = 2
    large_attachment_rate: float = 0.002
    signed_rate: float = 0.6
    faults: Faults = field(default_factory=Faults)
    log_limit: int = 200_000

    def with_(self, **changes: object) -> SimConfig:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def backfill_count(self) -> int:
        return self.backfill if self.backfill is not None else max(12, self.invoices // 10)
