"""What every command shares: settings, one-line errors, exit codes, JSON output, progress, a
quiet terminal.

Imports the library packages (lazily, to map their errors to exit codes) and ``rcflow.config``;
never ``flows/`` or ``tasks/``.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import gc
import json
import logging
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

from rcflow.config import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])

# Exit codes a scheduler can trust.
EXIT_OK = 0
EXIT_PROBLEMS = 1  # the run finished, but something needs attention (deferred, blocked, refused)
EXIT_USAGE = 2  # bad configuration, arguments or input file
EXIT_HUB = 3  # the hub refused us or could not be reached
EXIT_BUSY = 4  # the warehouse is held by another writer
EXIT_DISK_FULL = 5  # no space left where the warehouse or its blob store is written
EXIT_NOT_WRITABLE = 6  # the warehouse or its store is on a read-only file system (or not ours)
EXIT_CORRUPT = 7  # a corrupt database file (its path is in the message)
# Interrupted (SIGINT, SIGTERM): 128 + the signal, as shells and systemd report it.

PREFIX = "rcflow:"  # the one prefix of every error line, whatever the command
log = logging.getLogger("rcflow.cli")

# rich's consoles, for stdout and stderr: made on first use (module ``__getattr__``), so a command
# that prints only JSON (``rcflow sync --json``) never imports rich: ~25 ms of CPU a start.
console: Console
err_console: Console
_CONSOLES = {"console": False, "err_console": True}  # name -> on stderr


def __getattr__(name: str) -> Any:
    if name not in _CONSOLES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rich.console import Console

    made = globals()[name] = Console(stderr=_CONSOLES[name], highlight=False)
    return made


def _err_console() -> Console:
    return globals().get("err_console") or __getattr__("err_console")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def quiet_libraries() -> None:
    """No library chatter on the terminal: warnings only, never request lines."""
    from rcflow import prefect_env

    prefect_env.apply()
    for name in ("httpx", "httpcore", "great_expectations", "uvicorn", "asyncio"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # Retries are counted in every summary; one log line per retry is noise on a terminal.
    logging.getLogger("stamina").setLevel(logging.ERROR)
    ours = logging.getLogger("rcflow")
    if os.environ.get("RCFLOW_DEBUG"):
        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
    elif not ours.handlers:
        # rcflow's own log lines (a retry, a run record it could not write after the real error)
        # detail what the one-line error already names: RCFLOW_DEBUG=1 shows them, the terminal
        # of a scheduled run does not.
        ours.addHandler(logging.NullHandler())
        ours.propagate = False


def hush_stderr_at_exit() -> None:
    """For commands and scripts: send stderr to /dev/null once the interpreter starts exiting.

    After GX has run over DuckDB 2.0, interpreter shutdown prints "nanobind: leaked ..." lines
    (module teardown order between duckdb-engine, GX and DuckDB's nanobind types; nothing leaks
    while the process runs). A command's output is complete by then. Not for library code.
    """

    def hush() -> None:
        sys.stderr.flush()
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)

    atexit.register(hush)


_heap_frozen_at_exit = False


def freeze_heap_at_exit() -> None:
    """For a command run as its own process (``rcflow sync``, ``backfill``): its interpreter's
    shutdown skips the garbage collector's passes over the objects left (``gc.freeze`` at exit).

    Python's shutdown collects garbage over every module's objects: about 0.1 s of CPU for the
    sync's heap (pydantic schemas, pyarrow, DuckDB), against about 0.02 s once frozen (measured),
    a fixed cost of every run. Frozen objects are never collected, so cyclic garbage left at exit
    is not finalised, which loses nothing: the warehouse is checkpointed and closed before the
    command returns (and a committed transaction is already durable in DuckDB's fsynced WAL),
    blobs are fsynced as they are stored, the shutdown still flushes the standard streams, and
    the logging handlers are flushed by ``logging``'s own exit hook. nanobind then reports the
    DuckDB objects it was not asked to free: stderr is hushed as by :func:`hush_stderr_at_exit`.
    Registered once per process.
    """
    global _heap_frozen_at_exit
    if _heap_frozen_at_exit:
        return
    _heap_frozen_at_exit = True
    hush_stderr_at_exit()
    atexit.register(gc.freeze)


def settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)


def error_line(message: str) -> None:
    """Print one error line on stderr, with rcflow's one prefix."""
    _err_console().print(f"[bold red]{PREFIX}[/] {_escape(message)}", soft_wrap=True, highlight=False)


def fail(message: str, code: int) -> NoReturn:
    """The one way a command ends in error: one line on stderr and a meaningful exit code."""
    error_line(message)
    raise typer.Exit(code)


_STORAGE_EXIT = {
    "disk_full": EXIT_DISK_FULL,
    "not_writable": EXIT_NOT_WRITABLE,
    "corrupt": EXIT_CORRUPT,
}
_received: list[int] = []


def _on_sigterm(signum: int, frame: Any) -> None:
    """SIGTERM (Prefect, systemd, kill) stops a command as Ctrl-C does: cleanly, recorded."""
    _received.append(signum)
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler) and handler is not _on_sigterm:
        handler(signal.SIGINT, frame)  # inside asyncio.run: cancels the main task, like Ctrl-C
    else:
        raise KeyboardInterrupt


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    _received.clear()
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass
class _Program:
    """Set when this process is the ``rcflow`` program (``keep_exit_code_through_shutdown``):
    only then may an interruption change the process's signals and its final exit code."""

    running: bool = False
    exit_code: int | None = None  # an exit code the interpreter's shutdown must not change


_program = _Program()


def keep_exit_code_through_shutdown() -> None:
    """For the ``rcflow`` process only (never a library's or a test's): once an interruption
    has been reported, the process ends with its code (128 + the signal) after the shutdown's
    clean-ups. CPython otherwise ends a process by SIGINT when a KeyboardInterrupt escaped any
    code it ran, even one a library caught and turned into its own error (DuckDB's "Query
    interrupted" does): a SIGTERM'd report ended killed by SIGINT, not with 143, about half the
    time. Registered first, this runs after the clean-ups registered while the command ran."""
    _program.running = True

    def final() -> None:
        if _program.exit_code is not None:
            logging.shutdown()
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(_program.exit_code)

    atexit.register(final)


def existing_warehouse() -> Path:
    """The configured warehouse, which a reading command needs to exist: else one line, exit 2
    (a configuration error: the path names no warehouse yet)."""
    path = settings().warehouse
    if not Path(path).exists():
        fail(f"no warehouse at {path}: run `rcflow sync` first", EXIT_USAGE)
    return path


def print_problems(problems: list[str], limit: int = 50) -> None:
    """An input's problems on stderr, one per line (the first ``limit``, then how many more)."""
    for problem in problems[:limit]:
        _err_console().print(f"  {_escape(problem)}", soft_wrap=True, highlight=False)
    if len(problems) > limit:
        _err_console().print(f"  … and {len(problems) - limit} more")


def problem_count(problems: list[str]) -> str:
    return f"{len(problems)} problem{'s' * (len(problems) != 1)}"


def _interrupted(signum: int | None = None) -> NoReturn:
    """One line and 128 + the signal's number, as a shell reports a signalled command."""
    signum = signum or (_received[-1] if _received else signal.SIGINT)
    name = signal.Signals(signum).name
    if _program.running:  # not a test's or a library caller's process: its signals are ours
        for ending in (signal.SIGINT, signal.SIGTERM):  # no second interrupt while it ends
            with contextlib.suppress(ValueError):
                signal.signal(ending, signal.SIG_IGN)
        _program.exit_code = 128 + signum
    fail(f"interrupted ({name}): stopped cleanly; a sync or push is recorded as interrupted: re-run to "
         "resume", 128 + signum)  # fmt: skip


def _is_interruption(exc: BaseException) -> bool:
    """A Ctrl-C that a library turned into its own error: DuckDB's "Query interrupted" (also
    from a query on another thread), or a KeyboardInterrupt anywhere in the chain."""
    from rcflow.warehouse.failures import chain

    return any(isinstance(e, KeyboardInterrupt) or "query interrupted" in str(e).lower()[:200]
               for e in chain(exc))  # fmt: skip


def _is_external_signal(exc: BaseException) -> bool:
    prefect_exceptions = sys.modules.get("prefect.exceptions")  # loaded only when flows run
    external = getattr(prefect_exceptions, "ExternalSignal", None)
    return external is not None and isinstance(exc, external)


def _debug(exc: BaseException) -> None:
    """The full chain on stderr under RCFLOW_DEBUG, in the log otherwise."""
    if os.environ.get("RCFLOW_DEBUG"):
        traceback.print_exception(exc, file=sys.stderr)
    else:
        log.debug("command failed", exc_info=exc)


def _import_refused() -> Any:
    """The push's ImportRefused if its (polars-heavy) module is loaded — only then can it be
    raised — else nothing to catch: other commands do not import it."""
    return getattr(sys.modules.get("rcflow.push.accounting.load"), "ImportRefused", ())


def handle_errors(func: F) -> F:
    """Turn known failures into one line on stderr and a meaningful exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from rcflow.connectors.efact import HubError, HubStatusError, PayloadError
        from rcflow.warehouse import StorageFailure, WarehouseBusy
        from rcflow.warehouse.failures import storage_failure

        try:
            with _sigterm_interrupts():
                return func(*args, **kwargs)
        except StorageFailure as exc:
            _debug(exc)
            fail(str(exc), _STORAGE_EXIT[exc.kind])
        except ConfigError as exc:
            fail(str(exc), EXIT_USAGE)
        except _import_refused() as exc:
            print_problems(exc.problems)
            fail(f"{exc.file}: refused whole, nothing imported ({problem_count(exc.problems)})", EXIT_USAGE)
        except PayloadError as exc:
            fail(str(exc), EXIT_USAGE)
        except HubStatusError as exc:
            fail(str(exc), EXIT_HUB)
        except HubError as exc:
            fail(str(exc), EXIT_HUB)
        except WarehouseBusy as exc:
            fail(str(exc), EXIT_BUSY)
        except KeyboardInterrupt:
            _interrupted()
        except typer.Exit:
            raise
        except Exception as exc:  # storage causes first, then one line for the operator
            from rcflow.reports.periods import PeriodError

            if _received or _is_interruption(exc):  # a library's own error for the signal
                _debug(exc)
                _interrupted()

            if isinstance(exc, PeriodError):  # every command reads a period with the one parser
                fail(str(exc), EXIT_USAGE)
            face = sys.modules.get("rcflow.connectors.face.errors")  # loaded only when FACe is used
            if face is not None and isinstance(exc, face.FaceError):
                fail(str(exc), EXIT_USAGE if isinstance(exc, face.FaceConfigError) else EXIT_HUB)
            failure = storage_failure(exc)
            if failure is not None:
                _debug(exc)
                fail(str(failure), _STORAGE_EXIT[failure.kind])
            if isinstance(exc, FileNotFoundError | FileExistsError | IsADirectoryError | NotADirectoryError
                          | PermissionError):  # fmt: skip
                fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc), EXIT_USAGE)
            if os.environ.get("RCFLOW_DEBUG"):
                raise
            detail = (str(exc).strip().splitlines() or [""])[0][:300]
            fail(
                f"unexpected error: {type(exc).__name__}: {detail} (RCFLOW_DEBUG=1 shows the traceback)",
                EXIT_PROBLEMS,
            )
        except BaseException as exc:
            signum = getattr(exc, "signal", None)  # Prefect's TerminationSignal, from its own handler
            if _is_external_signal(exc) and isinstance(signum, int):
                _interrupted(signum)
            raise

    return wrapper  # type: ignore[return-value]


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


@contextmanager
def progress_counter(enabled: bool, description: str) -> Iterator[Callable[[str, int], None]]:
    """A live counter per kind of work (totals are unknown: the hub's queues have no count)."""
    if not enabled or not sys.stderr.isatty():
        yield lambda kind, n: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.completed:>7} {task.fields[kind]}"),
        TimeElapsedColumn(),
        console=_err_console(),
        transient=True,
    ) as progress:
        tasks: dict[str, Any] = {}

        def advance(kind: str, n: int) -> None:
            if kind not in tasks:
                tasks[kind] = progress.add_task(description, total=None, kind=kind)
            progress.advance(tasks[kind], n)

        yield advance


@contextmanager
def progress_steps(enabled: bool) -> Iterator[Callable[[str], None]]:
    """The steps of a long command, on stderr: a spinner naming the current one (on a terminal),
    and a line with its seconds as each one ends (terminal or log). A step starts when the
    command calls the function yielded, or when a flow names one on ``STEPS_LOGGER``. A step
    that fails gets no line: the command's one-line error follows instead."""
    if not enabled:
        yield lambda text: None
        return
    from rcflow.prefect_env import STEPS_LOGGER

    out = _err_console()
    status = out.status("", spinner="dots") if out.is_terminal else None
    current: list[tuple[str, float]] = []

    def finish() -> None:
        if current:
            text, started = current.pop()
            # one line each, however narrow the terminal or log (rich wraps at 80 columns off one)
            out.print(f"[green]✓[/] {_escape(text)} ({time.monotonic() - started:.0f} s)", soft_wrap=True)

    def step(text: str) -> None:
        finish()
        current.append((text, time.monotonic()))
        if status is not None:
            status.update(_escape(text) + "…")

    heard = _StepsHeard(step)
    named = logging.getLogger(STEPS_LOGGER)
    level = named.level
    named.addHandler(heard)
    named.setLevel(logging.INFO)
    try:
        with status if status is not None else nullcontext():
            yield step
            finish()
    finally:
        named.removeHandler(heard)
        named.setLevel(level)


class _StepsHeard(logging.Handler):
    """A flow's step (a record on ``STEPS_LOGGER``) started as ``progress_steps``' own."""

    def __init__(self, step: Callable[[str], None]):
        super().__init__(logging.INFO)
        self.step = step

    def emit(self, record: logging.LogRecord) -> None:
        self.step(record.getMessage())
