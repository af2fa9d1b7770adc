"""A report run's files appear in its folder together, or not at all.

The outputs are written into a hidden staging folder inside the report folder (the same file
system, so each file then moves into place with one rename), and published only once every one
of them is written: an interrupted or failed run leaves the previous report whole, never one
period's CSVs beside another's pages. Publishing also removes what the previous run wrote and
this one did not (a workbook asked for last time only), by the list each run leaves behind
(``MANIFEST``); ``report.json`` and that list move last.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

MANIFEST = ".rcflow-report-files"  # the files the last published run wrote, one relative path a line
STAGING_PREFIX = ".rcflow-partial-"  # + the writing process's id
_LAST = ("report.json", MANIFEST)


@contextmanager
def staged(out_dir: Path) -> Iterator[Path]:
    """A fresh staging folder in ``out_dir``, removed when the block ends (published or not).
    Staging folders of processes that are gone (killed mid-run) are removed first."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob(STAGING_PREFIX + "*"):
        if not _alive(stale.name.removeprefix(STAGING_PREFIX)):
            shutil.rmtree(stale, ignore_errors=True)
    stage = out_dir / f"{STAGING_PREFIX}{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def publish(stage: Path, out_dir: Path, paths: Mapping[str, Path]) -> dict[str, Path]:
    """Move the staged ``paths`` (name → file under ``stage``) into ``out_dir``, remove the
    previous run's files this one did not write, and return name → published path."""
    relative = {name: path.relative_to(stage) for name, path in paths.items()}
    wanted = {str(rel) for rel in relative.values()}
    for old in _previous(out_dir) - wanted:
        with contextlib.suppress(OSError):
            (out_dir / old).unlink()
    (stage / MANIFEST).write_text("".join(f"{rel}\n" for rel in sorted(wanted)), encoding="utf-8")
    order = sorted(relative.values(), key=lambda rel: str(rel) in _LAST)
    for rel in [*order, Path(MANIFEST)]:
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / rel, target)
    return {name: out_dir / rel for name, rel in relative.items()}


def _previous(out_dir: Path) -> set[str]:
    """What the last published run wrote (nothing known: nothing removed)."""
    try:
        text = (out_dir / MANIFEST).read_text(encoding="utf-8")
    except OSError:
        return set()
    return {line for line in text.splitlines() if line and not Path(line).is_absolute() and ".." not in line}


def _alive(pid: str) -> bool:
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


__all__ = ["MANIFEST", "publish", "staged"]
