"""The README's "Scheduling" steps for real: a Prefect server, `prefect deploy --all`, a process worker.

One test, as an operator goes: `prefect server start` (temporary PREFECT_HOME, SQLite inside it, a
free loopback port), the work pool, the hub's secret saved in a Secret block by the project's own
command, the worker `make worker` starts (launched as a script's `cmd &` launches it: SIGINT
ignored), every entry of prefect.yaml deployed, runs CREATED by the scheduler for every scheduled
deployment, the sync and pipeline deployments run by the worker against the hub simulator on
loopback and Completed with their artifacts, and the worker stopped by SIGTERM. With FACe's
connector, FACe too: its simulator beside eFACT's, the certificate's password only in its Secret
block (`python -m tasks.secret_block --face`), `sync-face-office-hours` run by the worker (its
schedule deployed inactive), the pipeline over both hubs, the password in no artifact or log.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from rcflow import prefect_env
from rcflow.connectors.efact.simulator.config import SimConfig
from rcflow.connectors.efact.simulator.process import free_port
from rcflow.connectors.efact.simulator.server import start_simulator

# Slow: a server, a worker and two flow runs (about 2 minutes on two idle cores, more when loaded).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ISSUER = "prefect_real"
SECRET = "prefect-real-secret-0123456789-abcdefghij"
POOL = "rcflow-process"
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


class PrefectAPI(httpx.Client):
    """The server's REST API. Like Prefect's own client, retries 503 (SQLite busy under load)."""

    def request(self, *args: Any, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        for _ in range(40):
            response = super().request(*args, **kwargs)
            if response.status_code != 503:
                break
            time.sleep(0.5)
        return response.raise_for_status()


def base_env(home: Path, api_url: str) -> dict[str, str]:
    """A clean environment: nothing from the developer's Prefect profile or rcflow settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RCFLOW_"))}
    return prefect_env.environment(clean) | {
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api_url,
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_CLI_COLORS": "false",
        "PREFECT_CLI_WRAP_LINES": "false",
    }


def run_cli(args: list[str], env: dict[str, str], *, stdin: str | None = None, timeout: float = 120) -> str:
    done = subprocess.run(
        args, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def wait_for(what: str, check, timeout: float, every: float = 1.0) -> Any:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def stop(proc: subprocess.Popen, grace: float = 10) -> None:
    """Terminate a process group we started (the server runs uvicorn in a child)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


STARTED = [time.monotonic()]


def phase(what: str) -> None:
    """Progress with elapsed seconds (pytest shows it when the test fails, or with -s)."""
    print(f"[{time.monotonic() - STARTED[0]:6.1f} s] {what}", flush=True)


def tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = base_env(tmp_path / "prefect-home", api_url)
    # The scheduler service wakes every 60 s by default; the same code every 2 s keeps this short.
    server_env = env | {"PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2"}
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path, env=server_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    api = PrefectAPI(base_url=api_url, timeout=30)

    def healthy() -> bool:
        assert proc.poll() is None, f"prefect server exited:\n{tail(log)}"
        try:
            return api.get("/health").status_code == 200
        except httpx.HTTPError:
            return False

    try:
        STARTED[0] = time.monotonic()
        phase("server starting")
        wait_for("the Prefect server", healthy, timeout=120, every=0.5)
        phase("server up")
        yield api, env
        assert "bulk DML" not in log.read_text(errors="replace"), tail(log)
    finally:
        api.close()
        stop(proc)


def scheduled_deployments() -> set[str]:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]
    return {d["name"] for d in spec if any(s.get("active", True) for s in d.get("schedules") or [])}


def deployment_ids(api: httpx.Client) -> dict[str, str]:
    return {d["name"]: d["id"] for d in api.post("/deployments/filter", json={}).json()}


def runs_by_deployment(api: httpx.Client, state: str) -> dict[str, int]:
    body = {"flow_runs": {"state": {"type": {"any_": [state]}}}, "limit": 200}
    counts: dict[str, int] = {}
    for run in api.post("/flow_runs/filter", json=body).json():
        counts[run["deployment_id"]] = counts.get(run["deployment_id"], 0) + 1
    return counts


def flow_run(api: httpx.Client, run_id: str) -> dict[str, Any]:
    return api.get(f"/flow_runs/{run_id}").json()


def run_logs(api: httpx.Client, run_id: str) -> str:
    found = api.post("/logs/filter", json={"logs": {"flow_run_id": {"any_": [run_id]}}, "limit": 200}).json()
    return "\n".join(entry["message"] for entry in found)


def artifacts_of(api: httpx.Client, run_ids: list[str]) -> dict[str, str]:
    body = {"artifacts": {"flow_run_id": {"any_": run_ids}}, "limit": 200}
    return {a["key"]: a["data"] for a in api.post("/artifacts/filter", json=body).json() if a.get("key")}


def subflow_runs(api: httpx.Client, parent_id: str) -> list[str]:
    body = {"flow_runs": {"parent_flow_run_id": {"any_": [parent_id]}}, "limit": 50}
    return [run["id"] for run in api.post("/flow_runs/filter", json=body).json()]


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    """`make worker`'s command, started the way a script's `cmd &` starts it: SIGINT ignored."""
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "rcflow.prefect_worker"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        )  # fmt: skip


def sigterm(worker: subprocess.Popen) -> int | None:
    """SIGTERM, then the exit code within 15 s (None: still running, then killed)."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    try:
        return worker.wait(15)
    except subprocess.TimeoutExpired:
        return None
    finally:
        stop(worker, grace=2)


FACE = importlib.util.find_spec("rcflow.connectors.face.connector") is not None


def test_deploy_schedule_and_run_through_a_real_worker(server, tmp_path: Path) -> None:
    from rcflow.cli.demo import face_simulator

    api, env = server
    config = SimConfig(seed=18, invoices=40, backfill=10, entities=2, issuers={ISSUER: SECRET})
    worker_log = tmp_path / "worker.log"
    face_sim = face_simulator(tmp_path / "face", invoices=200, seed=18) if FACE else nullcontext(({}, None))
    with start_simulator(config) as sim, face_sim as (face_env, _):
        password = face_env.pop("RCFLOW_FACE_CERT_PASSWORD", None)
        # 1. The pool and the secrets (non-interactively, from stdin), side by side.
        with ThreadPoolExecutor(3) as pool:
            # --overwrite: on a fresh server, under load, the create once failed on "already
            # exists" (likely the CLI's own retry of a create that had landed); idempotent now.
            create_pool = [str(BIN / "prefect"), "work-pool", "create", POOL, "--type", "process",
                           "--overwrite"]  # fmt: skip
            created = pool.submit(run_cli, create_pool, env)
            save_secret = [sys.executable, "-m", "tasks.secret_block"]
            saved = [pool.submit(run_cli, save_secret, env, stdin=SECRET + "\n")]
            if password:
                saved.append(pool.submit(run_cli, [*save_secret, "--face"], env, stdin=password + "\n"))
            created.result()
            outputs = "".join(s.result() for s in saved)
            assert SECRET not in outputs and (password or SECRET) not in outputs
        phase("pool created, secrets saved")

        # 2. The worker starts now (it takes a while) on the pool, paused until the runs we want
        #    exist; its rcflow environment points at the simulator, the secret only in the block.
        api.patch(f"/work_pools/{POOL}", json={"is_paused": True})
        worker = start_worker(
            env
            | {
                "RCFLOW_HUB_URL": sim.base_url,
                "RCFLOW_ISSUER": ISSUER,
                "RCFLOW_SECRET": "",
                "RCFLOW_WAREHOUSE": str(tmp_path / "data" / "warehouse.duckdb"),
                "RCFLOW_WORKERS": "1",
                "PREFECT_WORKER_QUERY_SECONDS": "1",
                **face_env,  # FACe's settings but its password (only in the block)
                "RCFLOW_FACE_CERT_PASSWORD": "",
            },
            worker_log,
        )
        try:
            run_and_check(api, env, worker, worker_log, password)
        finally:
            # 5. SIGTERM: the worker stops on its own, promptly and cleanly.
            code = sigterm(worker)
    assert code == 0, f"the worker did not stop cleanly on SIGTERM (exit {code}):\n{tail(worker_log)}"


def run_and_check(
    api: httpx.Client, env: dict[str, str], worker: subprocess.Popen, worker_log: Path, password: str | None
) -> None:
    # 3. Every deployment; the scheduler creates runs for every scheduled one (none on demand).
    run_cli([str(BIN / "prefect"), "--no-prompt", "deploy", "--all"], env, timeout=180)
    phase("deployed")
    ids = deployment_ids(api)
    wanted = scheduled_deployments()
    assert wanted and wanted <= set(ids) and "pipeline-on-demand" in ids

    def every_schedule_has_runs() -> dict[str, int]:
        counts = runs_by_deployment(api, "SCHEDULED")
        return counts if all(counts.get(ids[name]) for name in wanted) else {}

    counts = wait_for("scheduled runs for every scheduled deployment", every_schedule_has_runs, timeout=90)
    assert not counts.get(ids["pipeline-on-demand"])
    phase(f"scheduled runs: {sum(counts.values())}")
    # Pausing deletes the auto-scheduled runs, so none comes due while the worker runs ours.
    for name in wanted:
        api.post(f"/deployments/{ids[name]}/pause_deployment")

    # 4. The sync and the pipeline (what `prefect deployment run NAME` does), through the worker.
    names = ["sync-efact-office-hours", "pipeline-on-demand"]
    names += ["sync-face-office-hours"] if password else []
    runs = {n: api.post(f"/deployments/{ids[n]}/create_flow_run", json={}).json()["id"] for n in names}
    api.patch(f"/work_pools/{POOL}", json={"is_paused": False})
    phase("runs triggered")

    def all_finished() -> dict[str, dict]:
        assert worker.poll() is None, f"the worker exited:\n{tail(worker_log)}"
        states = {name: flow_run(api, run_id) for name, run_id in runs.items()}
        return states if all(s["state_type"] in TERMINAL for s in states.values()) else {}

    try:
        finished = wait_for("the sync and pipeline runs to finish", all_finished, timeout=480, every=2)
    except AssertionError as exc:
        states = {name: flow_run(api, run_id)["state_name"] for name, run_id in runs.items()}
        raise AssertionError(f"{exc}: {states}\n--- worker\n{tail(worker_log)}") from None
    phase("runs finished")
    subflows = subflow_runs(api, runs["pipeline-on-demand"])
    for run_id in [*runs.values(), *subflows]:
        r = flow_run(api, run_id)
        phase(f"  {r['name']}: {r['total_run_time']:.1f} s from {r['start_time']} to {r['end_time']}")
    for name, state in finished.items():
        logs = run_logs(api, runs[name])
        assert state["state_type"] == "COMPLETED", (
            f"{name}: {state['state_name']}\n{logs}\n--- worker\n{tail(worker_log)}"
        )

    # Their artifacts: readable tables, headline figures, never the secret.
    sync_art = artifacts_of(api, [runs["sync-efact-office-hours"]])
    pipeline_art = artifacts_of(api, subflows)
    assert "| Figure | Value |" in sync_art["rcflow-sync"]
    assert "| new invoices | " in sync_art["rcflow-sync"]
    assert {"rcflow-sync", "rcflow-check", "rcflow-push", "rcflow-report"} <= set(pipeline_art)
    assert "| Global PMP (days) |" in pipeline_art["rcflow-report"]
    everything = "".join([*sync_art.values(), *pipeline_art.values()])
    assert SECRET not in everything and "None" not in everything
    if password:  # FACe ran on its own and in the pipeline; its password nowhere
        face_art = artifacts_of(api, [runs["sync-face-office-hours"]])["rcflow-sync"]
        assert "| new invoices | " in face_art
        assert "| efact · new invoices | " in pipeline_art["rcflow-sync"]
        assert "| face · pushed | " in pipeline_art["rcflow-push"]
        logs = "".join(run_logs(api, run_id) for run_id in [*runs.values(), *subflows])
        assert password not in everything + face_art + logs + tail(worker_log, 100000)
