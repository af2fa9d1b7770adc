"""`rcflow demo` end to end, as `make demo` runs it: exit 0, both hubs, every file, a clean terminal,
and none of the secrets it made in any output or file."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import duckdb

# `rcflow demo` as `python -m rcflow.cli.main demo` runs it, noting every secret `secrets.token_urlsafe`
# makes in the run (the eFACT JWT secret, the FACe certificate's password, the efirma GO key) in a file.
RECORDING_SECRETS = """
import runpy, secrets, sys
made = open(sys.argv[1], "a", encoding="utf-8")
token_urlsafe = secrets.token_urlsafe
def recorded(nbytes=None):
    token = token_urlsafe(nbytes)
    made.write(token + "\\n")
    made.flush()
    return token
secrets.token_urlsafe = recorded
sys.argv = ["rcflow", *sys.argv[2:]]
runpy.run_module("rcflow.cli.main", run_name="__main__", alter_sys=True)
"""


def clean_env(prefect_home: Path, **settings: str) -> dict[str, str]:
    """This environment without any rcflow or Prefect setting, then the file's Prefect home and
    ``settings`` (Prefect's own defaults come from rcflow.prefect_env, as in an operator's run)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RCFLOW_", "PREFECT_"))}
    return env | {"PREFECT_HOME": str(prefect_home), **settings}


def test_demo_runs_both_hubs_cleanly_at_madrid_midnight_on_new_year(
    tmp_path: Path, prefect_home: Path
) -> None:
    """At 23:30 UTC on 31 December: already 1 January in Madrid, the hour nightly jobs run. The
    accounting import must not refuse today's events as "in the future", and the report for the
    month just ended is closed, as of its last day (issue #12, bug 3; compliance-rules.md §1.5).
    eFACT and FACe (one entity eFACT does not serve) land in one warehouse and one report.
    One demo run for all of it: it is the suite's longest step."""
    data_dir = tmp_path / "demo"
    made = tmp_path / "secrets-made.txt"
    env = clean_env(prefect_home, RCFLOW_CLOCK="2026-12-31T23:30:00Z")
    demo = ["demo", "--invoices", "150", "--data-dir", "demo"]  # a relative folder, as `make demo`'s
    proc = subprocess.run(
        [sys.executable, "-c", RECORDING_SECRETS, str(made), *demo],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    for bad in ("Traceback", "ERROR", "Error:", "nanobind", "leaked", "Warning", "in the future"):
        assert bad not in output, f"{bad!r} in the demo output:\n{output[-3000:]}"
    assert "global PMP" in proc.stdout and "report.html" in proc.stdout
    # Each step named as it ends, with its seconds (no spinner: not a terminal).
    steps = [line.rsplit(" (", 1)[0] for line in proc.stderr.splitlines() if line.startswith("✓")]
    assert steps == ["✓ starting the hub simulators on loopback",
                     "✓ syncing eFACT and FACe; Prefect starts with this first flow",
                     "✓ writing the simulated accounting system's events",
                     "✓ syncing the hubs",  # the pipeline's own steps from here
                     "✓ importing the accounting events",
                     "✓ checking the data",
                     "✓ pushing the updates owed to the hubs",
                     "✓ building the 2026-12 reports",
                     "✓ signing the 2026-12 PMP in the efirma GO simulator"], proc.stderr[-2000:]  # fmt: skip
    assert "from efact" in proc.stdout and "from face" in proc.stdout
    reports = next((data_dir / "reports").iterdir())
    # last-month in Madrid on 01/01/2027 is December 2026, closed.
    meta = json.loads((reports / "report.json").read_text("utf-8"))
    assert (reports.name, meta["period"], meta["status"], meta["is_provisional"]) == (
        "2026-12", "2026-12", "closed, as of 31/12/2026", False)
    assert meta["generated_local"].startswith("01/01/2027 00:3")
    assert meta["generated_local"].endswith(" CET")
    for name in (
        "pmp.csv",
        "morosity.csv",
        "pending_recognition.csv",
        "obligations.csv",
        "late_interest.csv",
        "report.html",
        "dashboard.html",
    ):
        assert (reports / name).stat().st_size > 0, name
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        invoices, pushed, runs = con.execute(
            "select (select count(*) from raw.invoices), (select count(*) from ops.push_audit),"
            " (select count(*) from ops.runs where status = 'ok')"
        ).fetchall()[0]
        by_hub = dict(con.execute("select source_hub, count(*) from raw.invoices group by 1").fetchall())
        pushed_to = {h for (h,) in con.execute("select distinct source_hub from ops.push_audit"
                                               " join raw.invoices using (invoice_id)").fetchall()}
        names = "select distinct entity_name from raw.invoices where source_hub = ?"
        face_names = {n for (n,) in con.execute(names, ["face"]).fetchall()}
        efact_names = {n for (n,) in con.execute(names, ["efact"]).fetchall()}
        signed = con.execute("select document, state, signed_sha256 from ops.signature_requests").fetchall()
    assert invoices >= 150 and pushed > 0 and runs >= 4
    assert set(by_hub) == {"efact", "face"} and all(by_hub.values()) and pushed_to == {"efact", "face"}
    assert len(face_names) == 1 and efact_names and not face_names & efact_names
    report = (reports / "report.html").read_text(encoding="utf-8")
    for name in (*face_names, *efact_names):
        assert name.replace("'", "&#39;") in report or name in report, name
    assert (data_dir / "gx").exists()
    assert "signed in the efirma GO simulator" in proc.stdout
    assert [(d, s) for d, s, _ in signed] == [("pmp", "signed")] and signed[0][2]
    assert (reports / "documents" / "pmp.ca.pdf").read_bytes().startswith(b"%PDF-")

    secrets_made = made.read_text(encoding="utf-8").split()
    assert len(secrets_made) >= 3  # eFACT's JWT secret, FACe's certificate password, efirma GO's key
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    for secret in secrets_made:
        assert secret not in output
        for path in files:
            assert secret.encode() not in path.read_bytes(), path


def rcflow_run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`rcflow run` as a scheduler starts it: not a terminal."""
    command = [sys.executable, "-m", "rcflow.cli.main", "run", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=240, cwd=cwd)


def test_run_exits_0_with_its_steps_and_the_headline(tmp_path: Path, prefect_home: Path) -> None:
    """The nightly command's healthy run: exit 0, each pipeline step ticked with its seconds on
    stderr, the headline on stdout, nothing else on the terminal, the secret nowhere."""
    from rcflow.connectors.efact.simulator.config import SimConfig
    from rcflow.connectors.efact.simulator.server import start_simulator

    secret = "run-ok-secret-0123456789-abcdefghijklmnop"
    with start_simulator(SimConfig(seed=11, invoices=40, entities=2, issuers={"nightly": secret})) as sim:
        env = clean_env(prefect_home, RCFLOW_WAREHOUSE=str(tmp_path / "data" / "warehouse.duckdb"),
                        RCFLOW_HUB_URL=sim.base_url, RCFLOW_ISSUER="nightly",
                        RCFLOW_SECRET=secret)  # fmt: skip
        proc = rcflow_run(["--period", "2025-10"], env, tmp_path)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    steps = [line.rsplit(" (", 1) for line in proc.stderr.splitlines() if line.strip()]
    assert [text for text, _ in steps] == [
        "✓ starting the Prefect run",
        "✓ syncing the hubs",
        "✓ checking the data",
        "✓ pushing the updates owed to the hubs",
        "✓ building the 2025-10 reports",
    ], proc.stderr
    assert all(seconds.endswith(" s)") for _, seconds in steps)
    assert "global PMP" in proc.stdout and "report.html" in proc.stdout
    for bad in ("Traceback", "ERROR", "Error:", "nanobind", "leaked", "Warning", secret):
        assert bad not in output, f"{bad!r} in the output:\n{output[-3000:]}"


def test_run_fails_with_one_line_when_a_step_fails(tmp_path: Path, prefect_home: Path) -> None:
    """`rcflow run` against a hub that does not answer."""
    env = clean_env(prefect_home, RCFLOW_WAREHOUSE=str(tmp_path / "data" / "warehouse.duckdb"),
                    RCFLOW_HUB_URL="http://127.0.0.1:9/rcf", RCFLOW_ISSUER="nobody",
                    RCFLOW_SECRET="run-test-secret-0123456789-abcdefghijklm",
                    RCFLOW_MAX_RETRIES="0")  # fmt: skip
    proc = rcflow_run(["--period", "2025-10"], env, tmp_path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    # The steps that ended, each ticked, then one line naming the cause; the step that failed (the
    # sync) gets no tick.
    *ticked, error = [line for line in proc.stderr.splitlines() if line.strip()]
    assert [line.rsplit(" (", 1)[0] for line in ticked] == ["✓ starting the Prefect run"], proc.stderr
    assert error.startswith("rcflow: ") and "no answer from the hub" in error
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "run-test-secret" not in proc.stdout + proc.stderr
    # The full logs stay in Prefect: the failure's traceback reached the API's database before the
    # command's temporary API stopped (rcflow.prefect_api).
    with closing(sqlite3.connect(prefect_home / "prefect.db")) as db:
        (logged,) = db.execute(
            "select count(*) from log where level >= 40 and message like '%Traceback%'"
            " and message like '%no answer from the hub%''127.0.0.1'', 9)%'"
        ).fetchone()
    assert logged >= 1
