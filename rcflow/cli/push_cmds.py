"""`rcflow push` and `rcflow accounting import`: the plan and outcome as tables, files or JSON.

Imports :mod:`rcflow.push` (plan, execution, outbox), :mod:`rcflow.warehouse`, :mod:`rcflow.tabular`
and the shared CSV option of :mod:`rcflow.cli.query_cmds`.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer
from rich.table import Table

from rcflow import event_loop
from rcflow.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    console,
    emit_json,
    err_console,
    error_line,
    fail,
    handle_errors,
    print_problems,
    problem_count,
    settings,
)
from rcflow.cli.query_cmds import dialect_option
from rcflow.connectors.registry import check_hubs
from rcflow.push.accounting import ImportRefused, ImportResult, read_options
from rcflow.push.execute import PushSummary
from rcflow.push.plan import Hold, PushPlan
from rcflow.push.run import HubPushes, import_until_refused, plan_push, planned_hubs, push_hubs
from rcflow.tabular import Sheet, write_csv, write_xlsx
from rcflow.warehouse import Warehouse
from rcflow.warehouse.outbox import retry_refused as retry_refused_updates

accounting_app = typer.Typer(help="Accounting-system events (what rcflow pushes to the hub).")


@accounting_app.command("import")
@handle_errors
def import_files(
    files: list[Path] = typer.Argument(..., help="CSV/TSV, XLSX, Parquet or JSON files of events."),
    encoding: str = typer.Option(None, help="Text encoding (default: UTF-8, or Windows-1252 detected)."),
    separator: str = typer.Option(None, help="Field separator (default: sniffed among , ; and tab)."),
    mapping: Path = typer.Option(None, help="YAML file naming an ERP's own columns, states, exclusions."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Import events and exclusions (columns and formats: README, "Accounting files").

    Each file is all or nothing; the first refused file stops the import (the files before it stay
    imported, and are said so), exit 2.
    """
    results, refused = import_until_refused(settings(), files, read_options(encoding, separator, mapping))
    not_read = [path.name for path in files[len(results) + 1:]] if refused else []
    if as_json:
        emit_json(_import_json(results, refused, not_read))
    else:
        _print_imports(results)
    if refused is not None:
        _refused(refused, results, not_read)


def _import_json(
    results: list[ImportResult], refused: ImportRefused | None, not_read: list[str]
) -> list[dict[str, object]]:
    """One entry per file named, in order, with its ``status``: imported, already_imported,
    refused (with its problems) or not_read (after a refused file)."""
    entries = [{**r.as_dict(), "status": "already_imported" if r.already_imported else "imported"}
               for r in results]  # fmt: skip
    if refused is not None:
        entries.append({"file": refused.file, "status": "refused", "problems": refused.problems})
    return entries + [{"file": name, "status": "not_read"} for name in not_read]


def _refused(refused: ImportRefused, results: list[ImportResult], not_read: list[str]) -> None:
    """The refused file's problems, then one line saying what was and was not imported; exit 2."""
    print_problems(refused.problems)
    message = f"{refused.file}: refused whole ({problem_count(refused.problems)})"
    if results:
        message += f", nothing of it imported; imported before it: {', '.join(r.file for r in results)}"
    else:
        message += ", nothing imported"
    if not_read:
        message += f"; not read: {', '.join(not_read)}"
    fail(message, EXIT_USAGE)


def _print_imports(results: list[ImportResult]) -> None:
    for r in results:
        if r.already_imported:
            console.print(f"{r.file}: already imported ({r.rows} rows), nothing to do")
            continue
        read_as = f" (read as {r.encoding})" if r.encoding and "detected" in r.encoding else ""
        excluded = f", {r.exclusions} exclusions" if r.exclusions else ""
        excluded += f", {r.cancellation_decisions} cancellation answers" if r.cancellation_decisions else ""
        console.print(f"{r.file}: {r.rows} rows, {r.new_events} new events{excluded}{read_as}")


PLAN_COLUMNS = ("invoice_id", "step", "action", "state", "date", "detail")


def _line(*cells: object) -> None:
    console.print("  ".join(str(c) for c in cells if c != ""), markup=False, soft_wrap=True, highlight=False)


def _print_plan(plan: PushPlan) -> None:
    """Every line of the plan, never cut: what is held back and what cannot be pushed come first."""
    discrepancies = [d for d in plan.discrepancies if d.blocking]
    noted = [d for d in plan.discrepancies if not d.blocking]
    console.print(
        f"[bold]push plan:[/] {plan.owed_count} updates owed · {len(plan.holds)} held back"
        f" · {len(discrepancies)} discrepancies · {len(noted)} skipped"
    )
    if plan.holds:
        console.print(f"[bold]held back ({len(plan.holds)}):[/]")
        for hold in sorted(plan.holds, key=lambda h: (h.kind, h.invoice_id)):
            _line(" ", "blocked" if hold.kind == "quarantine" else "refused", hold.invoice_id,
                  ", ".join(hold.states), hold.reason)  # fmt: skip
    if plan.discrepancies:
        console.print(f"[bold]cannot be pushed ({len(plan.discrepancies)}):[/]")
        for d in plan.discrepancies:
            _line(" ", "discrepancy" if d.blocking else "skipped", d.invoice_id, d.state, d.reason)
    console.print(f"[bold]updates ({plan.owed_count}):[/]")
    for row in plan.rows():
        if row["action"] == "push":
            _line(" ", row["invoice_id"], row["step"], row["state"], row["date"], row["detail"])


def _write_plan(plans: list[PushPlan], out: Path, dialect: str | None) -> None:
    """Every hub's rows in one file (FACe's invoice ids, ``face:…``, tell its rows apart)."""
    rows = [[row[c] for c in PLAN_COLUMNS] for plan in plans for row in plan.rows()]
    if out.suffix.lower() == ".xlsx":
        write_xlsx(out, [Sheet("push plan", PLAN_COLUMNS, rows)])
    else:
        write_csv(out, PLAN_COLUMNS, rows, dialect_option(dialect))
    err_console.print(f"plan written to {out} ({len(rows)} rows)", soft_wrap=True, highlight=False)


def _print_summary(summary: PushSummary, holds: list[Hold], title: str = "push") -> None:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    by_state = ", ".join(f"{k} {v}" for k, v in sorted(summary.pushed_by_state.items())) or "-"
    blocking = [d for d in summary.discrepancies if d["blocking"]]
    for label, value in (
        ("updates owed", summary.owed),
        ("pushed", f"{summary.pushed} ({by_state})"),
        ("already on the hub (confirmed)", summary.confirmed_already_on_hub),
        ("refused by the hub", len(summary.refused)),
        ("failed, owed next run", len(summary.failed)),
        ("held back (quarantine, or refused before)", len(summary.blocked)),
        ("discrepancies (not pushed)", len(blocking)),
        ("time", f"{summary.seconds:.1f} s"),
    ):
        table.add_row(label, str(value))
    console.print(table)
    for item in summary.refused:
        code = f"code {item['code']}: " if item.get("code") else ""
        _line("refused", item["invoice_id"], item["state"], f"{code}{item['reason']}")
    for item in summary.failed:
        _line("failed", item["invoice_id"], item.get("state", ""), item["reason"])
    for hold in holds:
        _line("blocked" if hold.kind == "quarantine" else "held", hold.invoice_id, ", ".join(hold.states),
              hold.reason)  # fmt: skip
    for d in blocking:
        _line("discrepancy", d["invoice_id"], d["state"], d["reason"])


def needs_attention(summary: PushSummary) -> bool:
    """Exit 1: an update failed or was refused, something is held back, or cannot be pushed."""
    return bool(
        summary.failed
        or summary.refused
        or summary.blocked
        or any(d["blocking"] for d in summary.discrepancies)
    )


def _plan_json(plan: PushPlan) -> dict[str, object]:
    return {
        "owed": plan.owed_count,
        "needs_attention": plan.needs_attention,
        "blocked": [h.as_dict() for h in plan.holds if h.kind == "quarantine"],
        "refused": [h.as_dict() for h in plan.holds if h.kind == "refused"],
        "discrepancies": [asdict(d) for d in plan.discrepancies],
        "plan": plan.rows(),
    }


def _plans_json(plans: dict[str, PushPlan]) -> dict[str, object]:
    """One hub's plan keys, summed or joined over the hubs, plus ``hubs``: each hub's plan."""
    each = {hub: _plan_json(plan) for hub, plan in plans.items()}
    joined: dict[str, object] = {
        "owed": sum(p.owed_count for p in plans.values()),
        "needs_attention": any(p.needs_attention for p in plans.values()),
    }
    for key in ("blocked", "refused", "discrepancies", "plan"):
        joined[key] = [{**row, "hub": hub} for hub, data in each.items() for row in data[key]]  # type: ignore[attr-defined]
    return {**joined, "hubs": each}


@handle_errors
def push(
    hub: str = typer.Option(None, "--hub", help="Only this hub: efact or face (default: all configured)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan; call nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan or summary as JSON."),
    out: Path = typer.Option(None, "--out", help="With --dry-run: also write the plan (.csv or .xlsx)."),
    dialect: str = typer.Option(None, "--csv-dialect", help="plain | excel-es (default RCFLOW_CSV_DIALECT)"),
    retry_refused: bool = typer.Option(
        False, "--retry-refused", help="Send again what the hub refused, though its data is unchanged."
    ),
) -> None:
    """Push ANNOTATED / RECEIVED / ACCEPTED / RECOGNISED / PAID / REJECTED the hub is owed.

    Exit 1 when something needs attention: held back, refused, failed, or a discrepancy.
    """
    config = settings()
    if out is not None and not dry_run:
        fail("--out writes the plan: use it with --dry-run", EXIT_USAGE)
    if dry_run:
        if retry_refused:
            fail("--retry-refused changes the outbox: not with --dry-run", EXIT_USAGE)
        plans = {name: plan_push(config, hub=name) for name in planned_hubs(config, hub)}
        if out is not None:
            _write_plan(list(plans.values()), out, dialect)
        if as_json:
            emit_json(_plans_json(plans))
        else:
            for name, plan in plans.items():
                console.print(f"[bold]{name}[/]")
                _print_plan(plan)
        raise typer.Exit(EXIT_PROBLEMS if any(p.needs_attention for p in plans.values()) else EXIT_OK)
    hubs = check_hubs(config, hub)  # every configuration problem, before anything is touched
    if retry_refused:
        with Warehouse(config.warehouse, lock_timeout=config.lock_timeout, publish=False) as wh:
            err_console.print(f"{retry_refused_updates(wh)} refused updates made owed again")
    holds = {name: plan_push(config, hub=name).holds for name in hubs}
    pushes = event_loop.run(push_hubs(config, hub=hub))
    held = {n: [h for h in holds[n] if h.invoice_id in s.blocked] for n, s in pushes.summaries.items()}
    attention = any(needs_attention(s) for s in pushes.summaries.values())
    if as_json:
        emit_json({**pushes.as_dict(), "held_back": [h.as_dict() for hs in held.values() for h in hs],
                   "needs_attention": attention})  # fmt: skip
    else:
        for name, summary in pushes.summaries.items():
            _print_summary(summary, held[name], f"push · {name}")
    _end(pushes, attention)


def _end(pushes: HubPushes, attention: bool) -> None:
    """A failed hub's own error line and exit code (the others' results printed first)."""
    failed = list(pushes.errors.items())
    for name, exc in failed[:-1]:
        error_line(f"{name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    if failed:
        raise failed[-1][1]
    raise typer.Exit(EXIT_PROBLEMS if attention else EXIT_OK)
