"""Prefect artifacts summarising each run (markdown tables operators read in the UI)."""

from __future__ import annotations

from collections.abc import Iterable

from prefect.artifacts import create_markdown_artifact


def markdown_table(rows: Iterable[tuple[str, object]]) -> str:
    lines = ["| | |", "|---|---:|"]
    lines += [f"| {label} | {value} |" for label, value in rows]
    return "\n".join(lines)


def publish(key: str, title: str, rows: Iterable[tuple[str, object]], notes: Iterable[str] = ()) -> None:
    body = f"# {title}\n\n{markdown_table(rows)}\n"
    notes = list(notes)
    if notes:
        body += "\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    create_markdown_artifact(key=key, markdown=body, description=title)
