"""Run the suites through GX: one ephemeral context, one SQL datasource, one checkpoint.

Context → SQL data source (the check database) → one table asset and whole-table batch per
suite → one validation definition per suite → a checkpoint that validates them all and writes
Data Docs. Runtime values (``now``, ``today``) come in as expectation parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import great_expectations as gx
from great_expectations.core.expectation_validation_result import ExpectationValidationResult
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.data_context.context_factory import project_manager
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)

from rcflow.quality.gx_duckdb import CONNECTION_STRING, engine_kwargs
from rcflow.quality.suites import Rule, Suite

DATASOURCE = "rcflow_checks"
CHECKPOINT = "rcflow_checkpoint"
DOCS_SITE = "rcflow_data_docs"
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 20}


@dataclass(frozen=True)
class RuleResult:
    """What GX said about one rule."""

    suite: Suite
    rule: Rule
    success: bool
    unexpected_count: int | None
    error: str | None


def _context(docs_dir: Path) -> Any:
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites={
            DOCS_SITE: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _error(result: ExpectationValidationResult) -> str | None:
    info = result.exception_info or {}
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    # Metric failures come back keyed by metric id, one dict each.
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def run_suites(
    db: duckdb.DuckDBPyConnection,
    suites: Sequence[Suite],
    *,
    parameters: Mapping[str, Any],
    run_name: str,
    run_time: datetime,
    docs_dir: Path,
) -> list[RuleResult]:
    """Validate every suite's batch table in ``db``; Data Docs go to ``docs_dir``."""
    context = _context(docs_dir)
    source = context.data_sources.add_sql(
        name=DATASOURCE, connection_string=CONNECTION_STRING, kwargs=engine_kwargs(db)
    )
    definitions = []
    for suite in suites:
        asset = source.add_table_asset(name=suite.table, table_name=suite.table)
        batch = asset.add_batch_definition_whole_table(f"{suite.table}_whole")
        gx_suite = context.suites.add(
            gx.ExpectationSuite(
                name=suite.name,
                expectations=[r.expectation for r in suite.rules],
                meta={"version": suite.version},
            )
        )
        definitions.append(
            context.validation_definitions.add(
                gx.ValidationDefinition(name=f"{suite.name}_validation", data=batch, suite=gx_suite)
            )
        )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=CHECKPOINT,
            validation_definitions=definitions,
            actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=[DOCS_SITE])],
            result_format=RESULT_FORMAT,
        )
    )
    try:
        outcome = checkpoint.run(
            expectation_parameters=dict(parameters),
            run_id=RunIdentifier(run_name=run_name, run_time=run_time),
        )
    finally:
        source.get_engine().dispose()
        # GX keeps the last context in a module global; drop it (and the engine with it).
        project_manager.set_project(None)
    by_name = {s.name: s for s in suites}
    results: list[RuleResult] = []
    for suite_result in outcome.run_results.values():
        suite = by_name[suite_result.suite_name]
        for result in suite_result.results:
            rule = suite.rule(result.expectation_config.meta["rule"])
            results.append(
                RuleResult(
                    suite=suite,
                    rule=rule,
                    success=bool(result.success),
                    unexpected_count=result.result.get("unexpected_count"),
                    error=_error(result),
                )
            )
    return results
