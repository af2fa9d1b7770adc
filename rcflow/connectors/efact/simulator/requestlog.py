"""An in-memory log of every API request the simulator answered (or dropped)."""

from __future__ import annotations

import itertools
import re
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class RequestRecord:
    seq: int
    at: float  # time.monotonic() when the request arrived
    method: str
    path: str  # relative to the API root, e.g. /factura/159700001
    query: str
    status: int  # 0: connection dropped without a response
    code: int | str | None  # codiError of an error answer
    invoice_id: str | None
    attachment_id: str | None
    body: dict[str, object] | None  # parsed PATCH body
    fault: str | None
    duration_ms: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class RequestLog:
    """Bounded (oldest records fall off), thread-safe, filterable."""

    def __init__(self, limit: int = 200_000) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=limit)
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, **fields: object) -> RequestRecord:
        with self._lock:
            record = RequestRecord(seq=next(self._seq), **fields)  # type: ignore[arg-type]
            self._records.append(record)
        return record

    def records(self, since: int = 0) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self._records if r.seq > since]

    def find(
        self,
        method: str | None = None,
        path_regex: str | None = None,
        status: int | None = None,
    ) -> list[RequestRecord]:
        pattern = re.compile(path_regex) if path_regex else None
        return [
            r for r in self.records()
            if (method is None or r.method == method.upper())
            and (pattern is None or pattern.search(r.path))
            and (status is None or r.status == status)
        ]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.records())
