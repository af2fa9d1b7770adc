"""Network and server faults: random ones (seeded shares) and targeted injections for tests."""

from __future__ import annotations

import asyncio
import random
import re
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum


@dataclass(frozen=True)
class Faults:
    """Random faults applied to API requests (never to ``/_sim``)."""

    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    error_rate: float = 0.0  # 500 with codiError 9999 or 9001
    drop_rate: float = 0.0  # connection closed with no or a partial response
    slow_body_rate: float = 0.0  # body trickled in chunks
    slow_chunk_delay_ms: float = 25.0

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Faults:
        """Build from JSON-ish input, ignoring unknown keys and rejecting bad values."""
        known = {f.name for f in fields(cls)}
        values: dict[str, float] = {}
        for key, value in data.items():
            if key not in known:
                continue
            number = float(value)  # type: ignore[arg-type]
            if number < 0 or (key.endswith("_rate") and number > 1):
                raise ValueError(f"{key} out of range: {number}")
            values[key] = number
        return cls(**values)


class Phase(StrEnum):
    BEFORE = "before"  # the request is never handled
    AFTER = "after"  # the request is handled (state changes), the response is lost


class Action(StrEnum):
    ERROR = "error"
    DROP = "drop"  # close the connection without a response
    PARTIAL = "partial"  # headers and part of the body, then close


@dataclass
class Injection:
    """A targeted fault: the next ``times`` matching requests get it (``None``: forever)."""

    method: str | None = None
    path_regex: str | None = None
    status: int | None = 500  # None: no error (a delay-only injection)
    code: int | str | None = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    partial: bool = False
    after: bool = False
    delay_ms: float = 0.0
    times: int | None = 1
    hits: int = 0

    def __post_init__(self) -> None:
        self._pattern = re.compile(self.path_regex) if self.path_regex else None
        if self.method:
            self.method = self.method.upper()

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    @property
    def action(self) -> Action:
        if self.partial:
            return Action.PARTIAL
        return Action.DROP if self.drop else Action.ERROR

    @property
    def phase(self) -> Phase:
        return Phase.AFTER if (self.after or self.partial) else Phase.BEFORE

    def matches(self, method: str, path: str) -> bool:
        if self.exhausted or (self.method and self.method != method):
            return False
        return self._pattern is None or self._pattern.search(path) is not None


@dataclass(frozen=True)
class Decision:
    """What happens to one request."""

    delay_s: float = 0.0
    action: Action | None = None
    phase: Phase = Phase.BEFORE
    status: int = 500
    code: int | str | None = None
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    slow: bool = False
    label: str = ""

    async def fault_delay(self) -> None:
        """A fault's delay, before anything happens to the request (its work, its fault)."""
        if self.delay_s and self.action is not None:
            await asyncio.sleep(self.delay_s)

    async def until_answer(self, arrived: float) -> None:
        """With no fault, wait until ``arrived`` (``time.monotonic``) plus the latency: it runs
        from the request's arrival to its answer, the hub's own work inside it.

        Sleeping the whole latency first and working after it made the simulator's one event
        loop part of every answer: requests sleeping side by side woke together and queued for
        each other's work (16 concurrent clients at 20 ms saw 24 ms, a plain client included;
        bench/HISTORY.md, tenth round). A real hub works on its requests in parallel.
        """
        left = arrived + self.delay_s - time.monotonic() if self.action is None else 0.0
        if left > 0:
            await asyncio.sleep(left)


NO_FAULT = Decision()


class FaultEngine:
    """Decides faults per request, from a seeded RNG and the injection list."""

    def __init__(self, faults: Faults, seed: int) -> None:
        self._faults = faults
        self._rng = random.Random(f"{seed}/faults")
        self._injections: list[Injection] = []
        self._lock = threading.Lock()

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self._faults = value

    def inject(self, injection: Injection) -> Injection:
        with self._lock:
            self._injections.append(injection)
        return injection

    def clear(self) -> None:
        with self._lock:
            self._injections.clear()

    @property
    def injections(self) -> list[Injection]:
        with self._lock:
            return list(self._injections)

    def decide(self, method: str, path: str) -> Decision:
        """The fault for one API request (``path`` relative to the API root)."""
        with self._lock:
            for inj in self._injections:
                if inj.matches(method, path):
                    inj.hits += 1
                    self._injections = [i for i in self._injections if not i.exhausted]
                    return Decision(
                        delay_s=inj.delay_ms / 1000,
                        action=None if inj.status is None and inj.action is Action.ERROR
                        else inj.action,
                        phase=inj.phase,
                        status=inj.status or 500,
                        code=inj.code,
                        body=inj.body,
                        headers=tuple(inj.headers.items()),
                        label=f"inject:{inj.action.value}",
                    )
            return self._random_decision()

    def _random_decision(self) -> Decision:
        f, rng = self._faults, self._rng
        if not (f.latency_ms or f.latency_jitter_ms or f.error_rate or f.drop_rate
                or f.slow_body_rate):
            return NO_FAULT
        delay = (f.latency_ms + rng.random() * f.latency_jitter_ms) / 1000
        slow = rng.random() < f.slow_body_rate
        roll = rng.random()
        if roll < f.error_rate:
            code = 9001 if rng.random() < 0.3 else 9999
            return Decision(delay_s=delay, action=Action.ERROR, code=code, label="random:error")
        if roll < f.error_rate + f.drop_rate:
            action, phase = rng.choice(
                [(Action.DROP, Phase.BEFORE), (Action.DROP, Phase.AFTER),
                 (Action.PARTIAL, Phase.AFTER)]
            )
            return Decision(delay_s=delay, action=action, phase=phase, slow=slow,
                            label=f"random:{action.value}:{phase.value}")
        return Decision(delay_s=delay, slow=slow, label="random:slow" if slow else "")
