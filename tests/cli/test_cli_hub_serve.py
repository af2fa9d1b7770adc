"""`rcflow hub serve --hub face`: a FACe simulator on loopback that trusts the platform certificate
it made, pins its own signing certificate to a file, and prints the RCFLOW_FACE_* settings that a
real client then uses (never the password)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from rcflow.cli.main import app

PASSWORD = "hub-serve-face-password-0123456789"


def start(folder: Path, *extra: str) -> tuple[subprocess.Popen[str], dict[str, str], list[str]]:
    """The command in its own process; its settings once it listens."""
    env = dict(os.environ, RCFLOW_FACE_CERT_PASSWORD=PASSWORD)
    proc = subprocess.Popen(
        [sys.executable, "-m", "rcflow.cli.main", "hub", "serve", "--hub", "face", "--port", "0",
         "--dir", str(folder), "--invoices", "12", "--seed", "3", *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: list[str] = []
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    while not any(line.strip().startswith("RCFLOW_FACE_OFFICES=") for line in lines):
        assert time.monotonic() < deadline and proc.poll() is None, lines
        lines.append(proc.stdout.readline())
    settings = dict(line.strip().split("=", 1) for line in lines if line.strip().startswith("RCFLOW_FACE_"))
    return proc, settings, lines


def stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    out, err = proc.communicate(timeout=20)
    return out + err


def test_the_printed_settings_reach_the_simulator(tmp_path: Path) -> None:
    from rcflow.connectors.face import FaceClient, load_face_settings

    folder = tmp_path / "face-sim"
    proc, printed, lines = start(folder)
    try:
        assert set(printed) == {"RCFLOW_FACE_URL", "RCFLOW_FACE_CERT", "RCFLOW_FACE_SERVER_CERT",
                                "RCFLOW_FACE_OFFICES"}  # fmt: skip
        assert printed["RCFLOW_FACE_URL"].startswith("http://127.0.0.1:")
        assert Path(printed["RCFLOW_FACE_CERT"]) == (folder / "platform.p12").resolve()
        settings = load_face_settings(
            url=printed["RCFLOW_FACE_URL"], cert=printed["RCFLOW_FACE_CERT"], cert_password=PASSWORD,
            server_cert=printed["RCFLOW_FACE_SERVER_CERT"], offices=printed["RCFLOW_FACE_OFFICES"],
        )  # fmt: skip

        async def waiting() -> int:
            async with FaceClient.from_settings(settings) as face:
                pages = [await face.new_invoices(office) for office in settings.offices]
            return sum(len(page.invoices) for page in pages)

        assert asyncio.run(waiting()) == 12  # signed by the platform, answers verified against the pin
    finally:
        rest = stop(proc)
    assert PASSWORD not in "".join(lines) + rest
    first = (folder / "platform.pem").read_bytes()

    proc, again, lines = start(folder)  # a restart keeps the platform certificate FACe registered
    rest = stop(proc)
    assert (folder / "platform.pem").read_bytes() == first
    assert again["RCFLOW_FACE_CERT"] == printed["RCFLOW_FACE_CERT"]
    assert PASSWORD not in "".join(lines) + rest


def test_no_password_and_no_certificate_is_one_line(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RCFLOW_FACE_CERT_PASSWORD", raising=False)
    result = CliRunner().invoke(app, ["hub", "serve", "--hub", "face", "--dir", str(tmp_path / "f")])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("rcflow: set RCFLOW_FACE_CERT_PASSWORD to the password of the platform")
    assert not (tmp_path / "f").exists()
    wrong = CliRunner().invoke(app, ["hub", "serve", "--hub", "peppol"])
    assert wrong.exit_code == 2 and "--hub must be efact or face" in wrong.stderr
