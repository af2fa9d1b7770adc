"""Prefect artifacts summarising each run (markdown tables operators read in the UI)."""

from __future__ import annotations

from collections.abc import Iterable

from prefect.artifacts import acreate_markdown_artifact, create_markdown_artifact


def markdown_table(rows: Iterable[tuple[str, object]]) -> str:
    lines = ["| | |", "|---|---:|"]
    lines += [f"| {label} | {value} |" for label, value in rows]
    return "\n".join(lines)


def render(title: str, rows: Iterable[tuple[str, object]], notes: Iterable[str] = ()) -> str:
    body = f"# {title}\n\n{markdown_table(rows)}\n"
    notes = list(notes)
    if notes:
        body += "\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    return body


def publish(key: str, title: str, rows: Iterable[tuple[str, object]], notes: Iterable[str] = ()) -> None:
    """From a synchronous flow."""
    create_markdown_artifact(key=key, markdown=render(title, rows, notes), description=title)


async def apublish(
    key: str, title: str, rows: Iterable[tuple[str, object]], notes: Iterable[str] = ()
) -> None:
    """From an asynchronous flow."""
    await acreate_markdown_artifact(key=key, markdown=render(title, rows, notes), description=title)
