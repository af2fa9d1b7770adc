"""What every command shares: settings, one-line errors, exit codes, JSON output, progress."""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from rcflow.config import ConfigError, Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])

# Exit codes a scheduler can trust.
EXIT_OK = 0
EXIT_PROBLEMS = 1  # the run finished, but something needs attention (deferred, blocked, refused)
EXIT_USAGE = 2  # bad configuration, arguments or input file
EXIT_HUB = 3  # the hub refused us or could not be reached
EXIT_BUSY = 4  # the warehouse is held by another writer

console = Console(stderr=False, highlight=False)
err_console = Console(stderr=True, highlight=False)


def quiet_libraries() -> None:
    """No library chatter on the terminal: warnings only, never request lines."""
    from rcflow import prefect_env

    prefect_env.apply()
    for name in ("httpx", "httpcore", "great_expectations", "uvicorn", "asyncio"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # Retries are counted in every summary; one log line per retry is noise on a terminal.
    logging.getLogger("stamina").setLevel(logging.ERROR)


def settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)
        raise  # unreachable


def fail(message: str, code: int) -> None:
    err_console.print(f"[bold red]rcflow:[/] {message}", soft_wrap=True)
    raise typer.Exit(code)


def handle_errors(func: F) -> F:
    """Turn known failures into one line on stderr and a meaningful exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from rcflow.hub import HubError, HubStatusError, PayloadError
        from rcflow.ingest.fetchers import WorkerFailed
        from rcflow.push.accounting import ImportRefused
        from rcflow.warehouse import WarehouseBusy

        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            fail(str(exc), EXIT_USAGE)
        except ImportRefused as exc:
            for problem in exc.problems[:50]:
                err_console.print(f"  {escape(problem)}", soft_wrap=True)
            if len(exc.problems) > 50:
                err_console.print(f"  … and {len(exc.problems) - 50} more")
            fail(f"{exc.file}: refused whole, nothing imported ({len(exc.problems)} problems)", EXIT_USAGE)
        except PayloadError as exc:
            fail(str(exc), EXIT_USAGE)
        except HubStatusError as exc:
            fail(str(exc), EXIT_HUB)
        except HubError as exc:
            fail(str(exc), EXIT_HUB)
        except WarehouseBusy as exc:
            fail(str(exc), EXIT_BUSY)
        except WorkerFailed as exc:
            fail(str(exc), EXIT_PROBLEMS)
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc), EXIT_USAGE)
        except KeyboardInterrupt:
            fail("interrupted; nothing acknowledged that was not stored — re-run to resume", 130)
        except typer.Exit:
            raise
        except Exception as exc:  # last resort: one line for the operator, the traceback on demand
            if os.environ.get("RCFLOW_DEBUG"):
                raise
            detail = (str(exc).strip().splitlines() or [""])[0][:300]
            fail(
                f"unexpected error: {type(exc).__name__}: {detail} (RCFLOW_DEBUG=1 shows the traceback)",
                EXIT_PROBLEMS,
            )

    return wrapper  # type: ignore[return-value]


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


@contextmanager
def progress_counter(enabled: bool, description: str) -> Iterator[Callable[[str, int], None]]:
    """A live counter per kind of work (totals are unknown: the hub's queues have no count)."""
    if not enabled or not sys.stderr.isatty():
        yield lambda kind, n: None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.completed:>7} {task.fields[kind]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        tasks: dict[str, Any] = {}

        def advance(kind: str, n: int) -> None:
            if kind not in tasks:
                tasks[kind] = progress.add_task(description, total=None, kind=kind)
            progress.advance(tasks[kind], n)

        yield advance
