"""The dbt runner: a parsed project reused without being changed, dbt's partial parse kept
outside the project, and the CTE splice that spares dbt's sqlparse pass. (Builds with other
vars than the parse's are tested through real builds: test_rep_hand_cases.py,
test_rerunning_a_past_period_gives_identical_outputs.)"""

from __future__ import annotations

import gc
import json
from pathlib import Path

import duckdb
import pytest
import yaml

from rcflow.reports import dbt_runner
from rcflow.reports.build import period_vars
from rcflow.reports.periods import parse_period
from rcflow.reports.readings import Readings
from rcflow.warehouse import Warehouse, snapshot_path_for


def _empty_snapshot(root: Path) -> Path:
    with Warehouse(root / "warehouse.duckdb"):
        pass
    return snapshot_path_for(root / "warehouse.duckdb")


def test_builds_reuse_the_parsed_project_without_compiling_into_it(tmp_path, monkeypatch):
    """Two builds for different periods in one process: one parse, into the user's cache (not
    reports/), and the kept manifest is never compiled into (each build gets its own copy)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(dbt_runner, "_MANIFESTS", {})  # parse here, whatever ran before in this process
    snapshot = _empty_snapshot(tmp_path)
    for period in ("2025-10", "2025-11"):
        work = tmp_path / period
        work.mkdir()
        variables = {**period_vars(parse_period(period), parse_period("2026-01").start),
                     **Readings().to_vars()}  # fmt: skip
        run = dbt_runner.run_dbt_build(snapshot=snapshot, reports_db=work / "reports.duckdb",
                                       variables=variables, work_dir=work, checks=False,
                                       select=("+pmp",))  # fmt: skip
        assert run.node_seconds
        with duckdb.connect(str(work / "reports.duckdb"), read_only=True) as con:
            assert con.execute("select distinct period from main.pmp").fetchall() == [(period,)]
    cache = dbt_runner._parse_cache(dbt_runner.REPORTS_PROJECT_DIR)
    assert str(cache).startswith(str(tmp_path / "cache"))
    assert (cache / "reports" / "partial_parse.msgpack").is_file()
    kept = [m for key, m in dbt_runner._MANIFESTS.items() if key[2] == "reports"]
    assert kept and all(
        not getattr(node, "compiled", False) for m in kept for node in m.nodes.values()
    )


def test_another_warehouse_in_a_new_process_reads_the_last_parse(tmp_path, monkeypatch):
    """dbt keeps its partial parse only while the profile's connection details are unchanged; the
    parse names stand-in databases, so a process building another warehouse's reports (a
    platform's next entity, another folder) reads the last parse instead of parsing every file."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    variables = {**period_vars(parse_period("2025-10"), parse_period("2026-01").start),
                 **Readings().to_vars()}  # fmt: skip
    parsed = []
    for entity in ("a", "b"):
        monkeypatch.setattr(dbt_runner, "_MANIFESTS", {})  # a new process
        (tmp_path / entity).mkdir()
        run = dbt_runner.run_dbt_build(snapshot=_empty_snapshot(tmp_path / entity), reports_db=None,
                                       variables=variables, work_dir=tmp_path / entity, checks=False,
                                       select=("pmp",))  # fmt: skip
        assert run.node_seconds
        info = dbt_runner._parse_cache(dbt_runner.REPORTS_PROJECT_DIR) / "memory" / "perf_info.json"
        parsed.append(json.loads(info.read_text(encoding="utf-8"))["parsed_path_count"])
    assert parsed[0] > 100 and parsed[1] == 0, parsed


CTES = [" __dbt__cte__a as (\nselect 1 as x\n)", " __dbt__cte__b as (\nselect * from __dbt__cte__a\n)"]


@pytest.mark.parametrize(
    "sql",
    [
        "with\n\nsource as (\n    select * from __dbt__cte__b\n)\n\nselect * from source",
        "\n\nWITH renamed as (select 1) select * from renamed",
        "-- a comment\n/* and a block\n with */\nwith x as (select 1) select * from x",
        "select * from __dbt__cte__b",
        "with recursive r as (select 1 as n) select * from r",
        "with",
    ],
)
def test_the_fast_cte_splice_builds_what_dbt_builds(sql):
    """Same string as dbt's sqlparse-based injection, or dbt's own function when in doubt."""
    from dbt import compilation
    from dbt.artifacts.resources import InjectedCTE

    dbt_runner._install_fast_cte_injection()
    fast = compilation.inject_ctes_into_sql
    ctes = [InjectedCTE(id=f"model.p.{i}", sql=text) for i, text in enumerate(CTES)]
    assert fast(sql, ctes) == fast.dbt_original(sql, ctes)
    assert fast(sql, []) == sql


def _tiny_project(root: Path, models: dict[str, str], threads: int) -> Path:
    """A dbt project of its own (DuckDB, ``threads``), its models given as name → SQL."""
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text(
        "name: tiny\nversion: '1.0'\nconfig-version: 2\nprofile: tiny\n"
        "models:\n  tiny:\n    +materialized: table\n")  # fmt: skip
    (root / "profiles.yml").write_text(
        "tiny:\n  target: local\n  outputs:\n    local:\n      type: duckdb\n"
        f"      path: \"{{{{ env_var('RCFLOW_REPORTS_DB') }}}}\"\n      threads: {threads}\n")  # fmt: skip
    for name, sql in models.items():
        (root / "models" / f"{name}.sql").write_text(sql)
    return root


def test_a_build_leaves_a_callers_frozen_objects_as_it_found_them(monkeypatch):
    """Nothing frozen: a build freezes what exists and unfreezes it after. A caller that froze
    objects itself: a build neither freezes nor unfreezes (the calls are recorded, not the freeze
    count, which any thread freeing a frozen object lowers)."""
    calls: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "unfreeze", lambda: calls.append("unfreeze"))
    monkeypatch.setattr(gc, "get_freeze_count", lambda: 0)
    with dbt_runner._earlier_objects_frozen():
        assert calls == ["freeze"]
    assert calls == ["freeze", "unfreeze"]
    calls.clear()
    monkeypatch.setattr(gc, "get_freeze_count", lambda: 200_000)
    with dbt_runner._earlier_objects_frozen():
        pass
    assert calls == []


def test_dbt_starts_the_best_ready_node_when_a_thread_frees(tmp_path):
    """Among the nodes ready when a thread frees, dbt's priority (graph depth, then name)
    decides, not the order they became ready in (dbt queues each at its thread pool as soon as
    it is ready). One thread: ``k1`` (child of ``a``) is ready before ``b1`` (child of ``b``),
    yet ``b1`` starts first; first-in-first-out would start ``k1`` first."""
    stamp = "select now() as started_at"  # a statement's own transaction start: when it ran
    project = _tiny_project(tmp_path / "tiny", {
        "a": stamp, "b": stamp,
        "k1": f"{stamp} from {{{{ ref('a') }}}}", "b1": f"{stamp} from {{{{ ref('b') }}}}",
    }, threads=1)  # fmt: skip
    db = tmp_path / "tiny.duckdb"
    dbt_runner.run_dbt_build(snapshot=tmp_path / "unused.duckdb", reports_db=db, variables={},
                             work_dir=tmp_path / "work", project_dir=project)  # fmt: skip
    with duckdb.connect(str(db), read_only=True) as con:
        started = {name: con.execute(f"select started_at from main.{name}").fetchone()[0]
                   for name in ("a", "b", "k1", "b1")}  # fmt: skip
    assert sorted(started, key=started.__getitem__) == ["a", "b", "b1", "k1"]


def test_one_not_null_test_per_model_names_each_column_holding_nulls(tmp_path):
    """``not_null_columns`` (data-tests/generic): passes on a real build, and its compiled query
    returns, on the same table with NULLs written into two of the listed columns, exactly those
    columns and their NULL counts."""
    with Warehouse(tmp_path / "warehouse.duckdb") as wh:  # one entity: pmp gets rows
        wh.con.execute("insert into raw.entities (entity_nif, entity_name, raw_json, fetched_at)"
                       " values ('P0800001A', 'Ens', '{}', now())")  # fmt: skip
    snapshot = snapshot_path_for(tmp_path / "warehouse.duckdb")
    work = tmp_path / "build"
    work.mkdir()
    variables = {**period_vars(parse_period("2025-11"), parse_period("2026-01").start),
                 **Readings().to_vars()}  # fmt: skip
    run = dbt_runner.run_dbt_build(snapshot=snapshot, reports_db=work / "reports.duckdb",
                                   variables=variables, work_dir=work,
                                   select=("+pmp", "+pmp_trend"))  # fmt: skip
    tests = [n for n in run.node_seconds if n.startswith("test.rcflow_reports.not_null_columns_pmp_")]
    assert len(tests) == 2  # every non-null column of pmp in one node, and of pmp_trend in one
    [compiled] = [p.read_text() for p in (work / "target" / "compiled").rglob("not_null_columns_pmp_*.sql")
                  if "pmp_trend" not in p.name]  # fmt: skip
    with duckdb.connect(str(work / "reports.duckdb")) as con:
        assert con.execute(compiled).fetchall() == []
        con.execute("update main.pmp set period = null")
        con.execute("update main.pmp set paid_count = null where entity_nif = 'ALL'")
        rows = sorted(con.execute(compiled).fetchall())
    assert rows == [("paid_count", 1), ("period", 2)]


def test_unit_tests_run_here_and_not_in_a_report_build(tmp_path):
    """dbt's unit tests (the SQL's logic on fixed inputs) all pass in the suite, on a real build;
    a report build runs the data tests only (the inputs are fixed: nothing for it to learn)."""
    snapshot = _empty_snapshot(tmp_path)
    variables = {**period_vars(parse_period("2025-11"), parse_period("2026-01").start),
                 **Readings().to_vars()}  # fmt: skip
    runs = {}
    for unit_tests in (True, False):
        work = tmp_path / f"unit-{unit_tests}"
        work.mkdir()
        runs[unit_tests] = dbt_runner.run_dbt_build(
            snapshot=snapshot, reports_db=work / "reports.duckdb", variables=variables,
            work_dir=work, unit_tests=unit_tests)  # fmt: skip
    declared = {test["name"] for f in (dbt_runner.REPORTS_PROJECT_DIR / "models").rglob("*.yml")
                for test in yaml.safe_load(f.read_text()).get("unit_tests", [])}  # fmt: skip
    ran = {n.rsplit(".", 1)[-1] for n in runs[True].node_seconds if n.startswith("unit_test.")}
    assert len(declared) >= 5 and ran == declared  # each passed: a failure raises ReportBuildError
    assert not [n for n in runs[False].node_seconds if n.startswith("unit_test.")]
    assert [n for n in runs[False].node_seconds if n.startswith("test.")]


def test_a_build_without_a_file_keeps_its_marts_in_memory_for_the_block_only(tmp_path, monkeypatch):
    """``reports_db=None``: the marts are read inside the block through dbt-duckdb's own
    database, which is closed when the block ends; no database file is written anywhere."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    monkeypatch.chdir(tmp_path)
    snapshot = _empty_snapshot(tmp_path)
    variables = {**period_vars(parse_period("2025-10"), parse_period("2026-01").start),
                 **Readings().to_vars()}  # fmt: skip
    before = set(tmp_path.rglob("*.duckdb*"))
    frozen = gc.get_freeze_count()
    with dbt_runner.dbt_build(snapshot=snapshot, reports_db=None, variables=variables,
                              work_dir=tmp_path / "work", checks=False,
                              select=("+pmp",)) as built:  # fmt: skip
        assert built.con.execute("select distinct period from main.pmp").fetchall() == [("2025-10",)]
        assert built.con.execute("select current_database()").fetchone() == (dbt_runner.IN_MEMORY_NAME,)
        assert gc.get_freeze_count() > 0  # what was made before the build: left alone by the collector
    assert DuckDBConnectionManager._ENV is None
    assert gc.get_freeze_count() == frozen
    with pytest.raises(duckdb.ConnectionException):
        built.con.execute("select 1")
    assert set(tmp_path.rglob("*.duckdb*")) == before


def test_events_nothing_listens_to_are_dropped_and_every_other_one_is_delivered(monkeypatch):
    """Debug and info events are not turned into messages when no logger or foreign callback
    would receive them; warnings always are, and a listener gets everything."""
    from dbt.adapters.events.types import SQLQuery
    from dbt.tracking import track_behavior_change_warn
    from dbt_common.events import event_manager
    from dbt_common.events.base_types import EventLevel

    dbt_runner._install_unheard_events_skipped()
    built = []
    real = event_manager.msg_from_base_event
    monkeypatch.setattr(event_manager, "msg_from_base_event",
                        lambda e, level=None: built.append(e) or real(e, level=level))  # fmt: skip
    manager = event_manager.EventManager()
    manager.add_callback(track_behavior_change_warn)
    query = SQLQuery(conn_name="model.x", sql="select 1", node_info={})
    manager.fire_event(query)  # debug
    manager.fire_event(query, level=EventLevel.INFO)
    assert built == []
    manager.fire_event(query, level=EventLevel.WARN)
    assert len(built) == 1
    heard = []
    manager.add_callback(heard.append)
    manager.fire_event(query)
    assert len(built) == 2 and len(heard) == 1
