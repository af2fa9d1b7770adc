"""Run the suites through GX: one ephemeral context and one SQL datasource per run.

Context → SQL data source (the check database) → per suite: a table asset, a whole-table batch,
the suite, a validation definition and a checkpoint that runs it and updates Data Docs.
Runtime values (``now``, ``today``) come in as expectation parameters.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import great_expectations as gx
from great_expectations.core.expectation_validation_result import ExpectationValidationResult
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context import EphemeralDataContext
from great_expectations.data_context.data_context.context_factory import project_manager
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)

from rcflow.quality.gx_duckdb import CONNECTION_STRING, engine_kwargs
from rcflow.quality.suites import Rule, Suite

DATASOURCE = "rcflow_checks"
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


def _context(docs_dir: Path) -> EphemeralDataContext:
    # An ephemeral context indexes only this run's results; older pages would be orphans.
    # (The history is ops.quality_results.)
    shutil.rmtree(docs_dir / "validations", ignore_errors=True)
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


class GxSession:
    """One ephemeral context and one SQL datasource over the check database, for one run."""

    def __init__(
        self,
        db: duckdb.DuckDBPyConnection,
        *,
        parameters: Mapping[str, Any],
        run_name: str,
        run_time: datetime,
        docs_dir: Path,
    ) -> None:
        self.context = _context(docs_dir)
        self.source = self.context.data_sources.add_sql(
            name=DATASOURCE, connection_string=CONNECTION_STRING, kwargs=engine_kwargs(db)
        )
        self.parameters = dict(parameters)
        self.run_id = RunIdentifier(run_name=run_name, run_time=run_time)

    def validate(self, suite: Suite) -> list[RuleResult]:
        """Run ``suite`` over its batch table (one checkpoint; its Data Docs page is built with the
        others' by :meth:`build_docs`)."""
        asset = self.source.add_table_asset(name=suite.table, table_name=suite.table)
        batch = asset.add_batch_definition_whole_table(f"{suite.table}_whole")
        gx_suite = self.context.suites.add(
            gx.ExpectationSuite(
                name=suite.name,
                expectations=[r.expectation for r in suite.rules],
                meta={"version": suite.version},
            )
        )
        definition = self.context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{suite.name}_validation", data=batch, suite=gx_suite)
        )
        checkpoint = self.context.checkpoints.add(
            gx.Checkpoint(
                name=f"{suite.name}_checkpoint",
                validation_definitions=[definition],
                result_format=RESULT_FORMAT,
            )
        )
        outcome = checkpoint.run(expectation_parameters=self.parameters, run_id=self.run_id)
        (suite_result,) = outcome.run_results.values()
        return [
            RuleResult(
                suite=suite,
                rule=suite.rule(result.expectation_config.meta["rule"]),
                success=bool(result.success),
                unexpected_count=result.result.get("unexpected_count"),
                error=_error(result),
            )
            for result in suite_result.results
        ]

    def build_docs(self) -> None:
        """Build the Data Docs site once for the run's validations (a checkpoint's Data Docs
        action rebuilds the whole site each time: every earlier suite's page again)."""
        self.context.build_data_docs(site_names=[DOCS_SITE])

    def close(self) -> None:
        self.source.get_engine().dispose()
        # GX keeps the last context in a module global; drop it (and the engine with it).
        project_manager.set_project(None)


@contextmanager
def gx_session(
    db: duckdb.DuckDBPyConnection,
    *,
    parameters: Mapping[str, Any],
    run_name: str,
    run_time: datetime,
    docs_dir: Path,
) -> Iterator[GxSession]:
    session = GxSession(db, parameters=parameters, run_name=run_name, run_time=run_time, docs_dir=docs_dir)
    try:
        yield session
    finally:
        session.close()
