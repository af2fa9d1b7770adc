"""A signalled command ends with one line and 128 + the signal, whoever turned the signal into an
error (Prefect's engine, DuckDB)."""

from __future__ import annotations

import signal

import pytest
import typer
from prefect.exceptions import TerminationSignal

from rcflow.cli.common import handle_errors


def _exit_of(error: BaseException, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    @handle_errors
    def command() -> None:
        raise error

    with pytest.raises(typer.Exit) as ended:
        command()
    return ended.value.exit_code, capsys.readouterr().err


def test_prefects_termination_signal_is_an_interruption(capsys: pytest.CaptureFixture[str]) -> None:
    """SIGTERM during `rcflow run` reaches the command as Prefect's TerminationSignal (its own
    handler replaces rcflow's in a flow run): it ended in a traceback and exit 1."""
    code, err = _exit_of(TerminationSignal(signal.SIGTERM), capsys)
    assert code == 143 and err.startswith("rcflow: interrupted (SIGTERM)") and err.count("\n") == 1


def test_duckdbs_interrupted_query_is_an_interruption(capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C while a report writes its CSVs: DuckDB raises its own error ("unexpected error",
    exit 1 before)."""
    code, err = _exit_of(RuntimeError("Query interrupted"), capsys)
    assert code == 130 and err.startswith("rcflow: interrupted (SIGINT)")


def test_reporting_an_interruption_leaves_a_callers_signals_alone(capsys: pytest.CaptureFixture[str]) -> None:
    """Only the rcflow program ignores a second Ctrl-C while it ends: a test's or a library
    caller's process that ignored SIGINT passed that on to every process it started after."""
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    _exit_of(KeyboardInterrupt(), capsys)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
