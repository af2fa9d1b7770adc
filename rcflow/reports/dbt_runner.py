"""Run the dbt project in ``reports/`` in-process, quietly, against a warehouse snapshot."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec

import duckdb

from rcflow.reports.periods import NEW_METHOD_FROM

REPORTS_PROJECT_DIR = Path(__file__).resolve().parents[2] / "reports"
_FAILED_STATUSES = {"error", "fail", "runtime error"}
_PROJECT_PARTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "data-tests",
                  "analyses")  # fmt: skip
_BUILD_LOCK = threading.Lock()
IN_MEMORY = ":memory:"  # dbt-duckdb's path for a database that lives in the process
IN_MEMORY_NAME = "memory"  # and the name DuckDB gives it (relations are "memory"."main"."pmp")
_MANIFESTS: dict[tuple[str, str, str], Any] = {}  # parsed projects, oldest first
_MANIFESTS_KEPT = 4
# Parsing is independent of the vars (no configuration reads one; every build compiles with its
# own), so the project is parsed with these fixed ones: dbt's partial parse then stays valid
# from one process to the next.
# A statement that starts with WITH (after blanks and comments), and the blanks after it: dbt
# puts the ephemeral CTEs right there.
_LEADING_WITH = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*with\s+", re.IGNORECASE | re.DOTALL)
_RECURSIVE = re.compile(r"recursive\b", re.IGNORECASE)
PARSE_VARS = {"period_start": "2025-01-01", "period_end": "2025-01-31", "period_label": "2025-01",
              "period_kind": "month", "today": "2025-02-01",
              "pmp_method_from": NEW_METHOD_FROM.isoformat()}  # fmt: skip


class ReportBuildError(RuntimeError):
    """dbt could not build the reports; the message names the failing nodes."""


@dataclass(frozen=True)
class DbtRun:
    seconds: float
    nodes: int
    warnings: list[str]
    node_seconds: dict[str, float]  # unique_id → execution time


@dataclass(frozen=True)
class BuiltReports:
    """A finished build: dbt's figures, and a connection to the built marts (``main.pmp``...)
    that stays valid only inside :func:`dbt_build`'s ``with`` block."""

    run: DbtRun
    con: duckdb.DuckDBPyConnection


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _summarise(result: Any) -> tuple[list[str], list[str]]:
    failures, warnings = [], []
    for node_result in getattr(result, "results", None) or []:
        status = str(getattr(node_result, "status", "")).lower()
        node = getattr(node_result, "node", None)
        name = getattr(node, "unique_id", "?")
        message = [m.strip() for m in str(getattr(node_result, "message", None) or "").splitlines()]
        line = f"{name}: {' | '.join(m for m in message[:3] if m) or status}"

        if status in _FAILED_STATUSES:
            failures.append(line)
        elif status == "warn":
            warnings.append(line)
    return failures, warnings


def _project_signature(project_dir: Path) -> str:
    digest = hashlib.sha256()
    for part in _PROJECT_PARTS:
        path = project_dir / part
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            stat = file.stat()
            digest.update(f"{file.relative_to(project_dir)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _marts_connection() -> duckdb.DuckDBPyConnection:
    """A cursor on the database dbt-duckdb built into (its main database is the reports
    database), opened before :func:`_release_duckdb` closes it."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        conn = getattr(env, "conn", None)
        if conn is None:
            raise ReportBuildError("dbt-duckdb closed the in-memory reports database before it was read")
        return conn.cursor()


def _release_duckdb() -> None:
    """Close the DuckDB instance dbt-duckdb keeps open for the process.

    Otherwise the reports file stays open read-write (we cannot reopen it read-only) and the
    next build would reuse the old attachment of a snapshot that has since been replaced.
    dbt-duckdb's public switch for this, the profile's ``keep_open: false``, closes the
    database whenever no node holds a connection, in the middle of a build too, and with it
    the in-memory ``scratch`` database the intermediate tables live in; so the runner closes
    it itself, under dbt-duckdb's lock, once the build is over.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        env, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
        if env is not None:
            env.close()


def _install_fast_cte_injection() -> None:
    """Splice ephemeral CTEs into a model without parsing the whole model with sqlparse.

    dbt's ``inject_ctes_into_sql`` parses each model that reads an ephemeral model with
    sqlparse only to find its leading WITH: about 0.1 s per build for the PMP, as much as the
    rest of dbt's bookkeeping for it. When the model starts with WITH (after blanks or
    comments) and not WITH RECURSIVE, this builds the same string dbt does; anything else
    goes to dbt's own function.
    """
    from dbt import compilation

    original = compilation.inject_ctes_into_sql
    if getattr(original, "rcflow_fast", False):
        return

    def inject_ctes_into_sql(sql: str, ctes: list[Any]) -> str:
        match = _LEADING_WITH.match(sql) if ctes else None
        if match is None or _RECURSIVE.match(sql, match.end()):
            return original(sql, ctes)
        injected = ", ".join(cte.sql for cte in ctes)
        return f"{sql[: match.end()]}{injected}, {sql[match.end() :]}"

    inject_ctes_into_sql.rcflow_fast = True  # type: ignore[attr-defined]
    inject_ctes_into_sql.dbt_original = original  # type: ignore[attr-defined]
    compilation.inject_ctes_into_sql = inject_ctes_into_sql


def _install_dispatch_when_a_thread_is_free() -> None:
    """Hand dbt's ready nodes to its threads only when one is free, best first.

    dbt's main loop takes each node off its priority queue (graph depth, then name) as soon
    as it is ready and queues it at its thread pool, first in, first out: so the priority only
    orders nodes that become ready at the same instant, and a model on the build's longest
    chain waits behind every model that became ready before it (reports/README.md, "Speed").
    Here the loop takes a node only when a thread can start it, so among the ready nodes the
    priority decides. Same nodes, same dependencies; only the order among ready ones changes.
    """
    from dbt.task import build, runnable

    for task in (runnable.GraphRunnableTask, build.BuildTask):
        original = task.__dict__["handle_job_queue"]
        if getattr(original, "rcflow_free_thread", False):
            continue

        def handle_job_queue(self: Any, pool: Any, callback: Any, _original: Any = original) -> None:
            slots = self.__dict__.setdefault(
                "_rcflow_free_threads", threading.BoundedSemaphore(max(self.config.threads, 1))
            )
            slots.acquire()
            released = False

            def release_then(result: Any) -> None:
                nonlocal released
                try:
                    callback(result)
                finally:
                    released = True
                    slots.release()

            try:
                _original(self, pool, release_then)
            except BaseException:
                if not released:
                    slots.release()
                raise

        handle_job_queue.rcflow_free_thread = True  # type: ignore[attr-defined]
        task.handle_job_queue = handle_job_queue


def _install_unheard_events_skipped() -> None:
    """Skip dbt's debug and info events when nothing would receive them.

    dbt turns every event into a protobuf message before it looks for a logger (about 0.2 ms
    each, ~2,300 events in a report build: half a second of CPU), even with logging off. Here
    an event is dropped before that when no logger is registered (the runner logs to nothing),
    the only callback is dbt's own behaviour-change tracker (which reads warnings only), and the
    event is below warning level and not forced through warning handling. Warnings and errors
    go through dbt's own handling as before.
    """
    from dbt.tracking import track_behavior_change_warn
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.event_manager import EventManager

    original = EventManager.fire_event
    if getattr(original, "rcflow_unheard", False):
        return
    quiet_levels = (EventLevel.DEBUG, EventLevel.INFO)

    def fire_event(self: Any, e: Any, level: Any = None, node: Any = None,
                   force_warn_or_error_handling: bool = False) -> None:  # fmt: skip
        if (
            not self.loggers
            and not force_warn_or_error_handling
            and all(callback is track_behavior_change_warn for callback in self.callbacks)
            and (level or e.level_tag()) in quiet_levels
        ):
            return
        original(self, e, level, node, force_warn_or_error_handling)

    fire_event.rcflow_unheard = True  # type: ignore[attr-defined]
    fire_event.dbt_original = original  # type: ignore[attr-defined]
    EventManager.fire_event = fire_event


@contextmanager
def _earlier_objects_frozen() -> Iterator[None]:
    """For the length of a build, the garbage collector leaves alone the objects made before it.

    dbt's modules and the parsed project are ~200,000 objects that live as long as the process,
    and a full collection during a build walked them all: the collector took a median of 123 ms
    (up to 294) per PMP-only build, 19 ms (up to 27) with them frozen (14 alternating builds each;
    reports/README.md). What a build makes is collected as usual, and the objects are unfrozen
    when it ends. A caller that froze objects itself keeps its own arrangement: nothing is frozen
    or unfrozen then.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _raise_if_failed(outcome: Any) -> tuple[list[str], list[str]]:
    failures, warnings = _summarise(outcome.result)
    if isinstance(outcome.exception, KeyboardInterrupt):
        raise outcome.exception  # Ctrl-C or SIGTERM during the build, which dbt caught
    if outcome.exception is not None:
        lines = [line.strip() for line in str(outcome.exception).splitlines() if line.strip()]
        reason = " | ".join(lines[:3]) or type(outcome.exception).__name__
        raise ReportBuildError(f"dbt could not run: {reason}")
    if failures or not outcome.success:
        detail = "; ".join(failures[:5]) or "unknown failure (see the dbt log)"
        more = f" (+{len(failures) - 5} more)" if len(failures) > 5 else ""
        raise ReportBuildError(f"dbt build failed: {detail}{more}")
    return failures, warnings


def _parse_cache(project_dir: Path) -> Path:
    """Where dbt keeps its partial parse of ``project_dir`` between processes: the user's cache
    (``$XDG_CACHE_HOME``, else ``~/.cache``), never the project folder."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    tag = hashlib.sha256(str(project_dir.resolve()).encode()).hexdigest()[:12]
    return base / "rcflow" / "dbt-parse" / tag


def _parse_environment(database_name: str) -> dict[str, str]:
    """The databases the profile names while the project is parsed: fixed stand-ins, never opened
    (parsing connects to nothing). dbt keeps its partial parse only while the profile's connection
    details are unchanged, the attached snapshot's path included, so a parse with the real paths
    was thrown away whenever a process built another warehouse's reports (a platform's entities,
    every test): a full parse, ~7 s here, instead of ~1.7 s. The relations' database is the
    reports database's name, kept (``memory`` for one in memory)."""
    reports_db = IN_MEMORY if database_name == IN_MEMORY_NAME else f"{database_name}.duckdb"
    return {"RCFLOW_REPORTS_DB": reports_db, "RCFLOW_WAREHOUSE_SNAPSHOT": "warehouse.snapshot.duckdb"}


def _parsed_project(project_dir: Path, database_name: str, common: list[str]) -> Any:
    """dbt's manifest of the project, for builds into a database named ``database_name``.

    Parsed once per process while the project's files are unchanged, with :data:`PARSE_VARS`,
    into a persistent target folder (:func:`_parse_cache`), so a fresh process (a Prefect flow
    run) loads dbt's partial parse there instead of parsing every file again.
    """
    from dbt.cli.main import dbtRunner  # heavy import (seconds): only when a report is built

    # Relations are named after the database file's stem: in the key and the folder's name.
    key = (str(project_dir), _project_signature(project_dir), database_name)
    manifest = _MANIFESTS.get(key)
    if manifest is None:
        target = _parse_cache(project_dir) / database_name
        with _environment(_parse_environment(database_name)):
            parsed = dbtRunner().invoke(
                ["parse", *common, "--target-path", str(target), "--vars", json.dumps(PARSE_VARS),
                 "--partial-parse"]
            )  # fmt: skip
        _raise_if_failed(parsed)
        manifest = parsed.result
        if len(_MANIFESTS) >= _MANIFESTS_KEPT:
            _MANIFESTS.pop(next(iter(_MANIFESTS)))
        _MANIFESTS[key] = manifest
    return manifest


@contextmanager
def dbt_build(
    *,
    snapshot: Path,
    reports_db: Path | None,
    variables: dict[str, Any],
    work_dir: Path,
    checks: bool = True,
    unit_tests: bool = False,
    select: tuple[str, ...] = (),
    project_dir: Path = REPORTS_PROJECT_DIR,
) -> Iterator[BuiltReports]:
    """``dbt build`` the whole project once, then yield the marts to read; dbt's target and logs
    go under ``work_dir``.

    ``reports_db``: the DuckDB file the marts are written to, kept for whoever asked for it;
    ``None``: the marts live in memory and are gone when the ``with`` block ends (a report run's
    outputs are its files: writing a million-row ``invoice_status`` to a temporary file only to
    read a few lists back cost more than any mart's query).
    ``checks=False`` leaves out dbt's data tests (same models, a few seconds less).
    ``unit_tests=True`` also runs dbt's unit tests. They check the SQL's logic on fixed inputs,
    not the warehouse's data, so they belong to the test suite (``make test`` runs them:
    tests/reports/test_rep_dbt_runner.py), as dbt advises, not to every report (~0.3 s each).
    ``select`` narrows the build to dbt selectors (``("+pmp",)``: the PMP and what it reads).
    Builds in one process run one at a time, the ``with`` block included. dbt's public API, with
    measured exceptions (reports/README.md, "How dbt is run"): the parsed project
    (:func:`_parsed_project`) is handed to each build as a fresh copy (``dbtRunner(manifest=)``; a
    build compiles into the manifest it is given); ephemeral CTEs are spliced without dbt's
    sqlparse pass (:func:`_install_fast_cte_injection`); a ready node is handed to a thread only
    when one is free (:func:`_install_dispatch_when_a_thread_is_free`); debug and info events
    nothing listens to are dropped unbuilt (:func:`_install_unheard_events_skipped`); the marts are read
    through dbt-duckdb's own connection (:func:`_marts_connection`), and its database is closed
    when the block ends (:func:`_release_duckdb`).

    Raises:
        ReportBuildError: a model, seed or test failed, or dbt itself could not run.
    """
    common = [
        "--project-dir", str(project_dir),
        "--profiles-dir", str(project_dir),
        "--log-path", str(work_dir / "logs"),
        "--quiet",
        "--log-level", "none",
        "--log-level-file", "none",
        "--no-write-json",
        "--no-use-colors",
        "--no-send-anonymous-usage-stats",
        "--no-version-check",
        "--no-populate-cache",
    ]  # fmt: skip
    selection = [] if checks else ["--exclude-resource-type", "test"]
    if not unit_tests:
        selection += ["--exclude-resource-type", "unit_test"]
    if select:
        selection += ["--select", *select]
    env = {
        "RCFLOW_REPORTS_DB": str(reports_db) if reports_db is not None else IN_MEMORY,
        "RCFLOW_WAREHOUSE_SNAPSHOT": str(snapshot),
        "DO_NOT_TRACK": "1",
    }
    database_name = reports_db.stem if reports_db is not None else IN_MEMORY_NAME
    started = time.perf_counter()
    from dbt.cli.main import dbtRunner

    with _BUILD_LOCK, _earlier_objects_frozen():
        try:
            with _environment(env):
                _install_fast_cte_injection()
                _install_dispatch_when_a_thread_is_free()
                _install_unheard_events_skipped()
                manifest = _parsed_project(project_dir, database_name, common).deepcopy()
                outcome = dbtRunner(manifest=manifest).invoke(
                    ["build", *common, "--target-path", str(work_dir / "target"),
                     "--vars", json.dumps(variables, default=str), *selection]
                )  # fmt: skip
            seconds = time.perf_counter() - started
            _, warnings = _raise_if_failed(outcome)
            results = getattr(outcome.result, "results", None) or []
            node_seconds = {
                getattr(r.node, "unique_id", "?"): float(getattr(r, "execution_time", 0.0) or 0.0)
                for r in results
            }
            run = DbtRun(seconds=seconds, nodes=len(results), warnings=warnings,
                         node_seconds=node_seconds)  # fmt: skip
            if reports_db is None:
                con = _marts_connection()
            else:
                _release_duckdb()  # writes the file out; then read it as anyone would
                con = duckdb.connect(str(reports_db), read_only=True)
            try:
                yield BuiltReports(run=run, con=con)
            finally:
                con.close()
        finally:
            _release_duckdb()


P = ParamSpec("P")


def _figures_only(build: Callable[P, AbstractContextManager[BuiltReports]]) -> Callable[P, DbtRun]:
    """``build`` with the same parameters (type checkers see them), returning dbt's figures."""

    def run(*args: P.args, **kwargs: P.kwargs) -> DbtRun:
        with build(*args, **kwargs) as built:
            return built.run

    return run


run_dbt_build = _figures_only(dbt_build)
run_dbt_build.__name__ = run_dbt_build.__qualname__ = "run_dbt_build"
run_dbt_build.__doc__ = """``dbt build`` the project once and return dbt's figures (:func:`dbt_build`'s
parameters), for a caller that reads no mart (or reads the ``reports_db`` file afterwards)."""
