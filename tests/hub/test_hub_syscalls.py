"""The per-request socket checks of the eFACT client that avoid handing the GIL around: the
read timeout is set only when the deadline needs it, and the idle-connection check polls
without releasing the GIL. Both keep their rules (see ``rcflow.connectors.efact.http``)."""

from __future__ import annotations

import socket

import pytest

from rcflow.connectors.efact import http as hub_http


class _Socket:
    """Records ``settimeout`` calls; starts with ``timeout``."""

    def __init__(self, timeout: float | None):
        self.timeout, self.set = timeout, []

    def gettimeout(self) -> float | None:
        return self.timeout

    def settimeout(self, value: float) -> None:
        self.timeout = value
        self.set.append(value)


@pytest.mark.parametrize(
    ("current", "left", "expected"),
    [
        (30.0, 29.99, None),  # a fast answer on a connection made with the timeout: untouched
        (31.0, 30.0, None),  # within the slack (1.5 s of a 30 s timeout)
        (None, 30.0, 31.5),  # blocking socket: always bounded
        (29.0, 30.0, 31.5),  # shorter than the deadline left: never cut an answer short
        (31.6, 30.0, 31.5),  # longer than the deadline plus the slack: shortened
        (31.5, 0.2, 1.7),  # late in a slow body: the read ends by the deadline plus the slack
    ],
)
def test_a_read_ends_by_the_deadline_within_the_slack_and_never_before(
    current: float | None, left: float, expected: float | None
) -> None:
    deadline = hub_http._Deadline(30.0)
    sock = _Socket(current)
    hub_http._bound_reads(sock, deadline, left)  # type: ignore[arg-type]
    assert sock.set == ([] if expected is None else [pytest.approx(expected)])
    assert sock.timeout is not None and left <= sock.timeout <= left + deadline.slack


def test_an_idle_connection_is_stale_once_the_peer_closed_it_or_sent_something() -> None:
    ours, theirs = socket.socketpair()
    try:
        assert not hub_http._closed_by_peer(ours)
        theirs.sendall(b"x")  # garbage on an idle connection: not reusable either
        assert hub_http._closed_by_peer(ours)
        ours.recv(1)
        theirs.close()
        assert hub_http._closed_by_peer(ours)
    finally:
        ours.close()
    assert hub_http._closed_by_peer(ours)  # a closed socket is never reused


def test_the_idle_check_does_not_release_the_gil_where_libc_has_poll() -> None:
    assert hub_http._POLL is not None  # Linux: the check runs through ctypes.PyDLL, GIL held
