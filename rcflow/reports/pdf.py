"""HTML to PDF with headless Chromium (Debian's ``chromium``; ``make demo`` and ``make test`` install it).

Chromium lays out A4 pages from the document's ``@page`` CSS (margins, page numbers). It runs with
a throw-away profile and every network extra switched off; the page is a local file.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--disable-extensions", "--no-pdf-header-footer",
          "--run-all-compositor-stages-before-draw")  # fmt: skip


class PdfError(RuntimeError):
    """A PDF could not be made; one line naming the cause."""


def chromium_binary() -> str | None:
    for name in CHROMIUM_CANDIDATES:
        if found := shutil.which(name):
            return found
    return None


def print_to_pdf(html: Path, pdf: Path, *, timeout: float = 90.0) -> Path:
    """Print ``html`` (a local file) to ``pdf``, replacing it atomically."""
    binary = chromium_binary()
    if binary is None:
        raise PdfError("PDF documents need Chromium: install Debian's 'chromium' package (make demo does)")
    tmp = pdf.with_name(f".{pdf.name}.tmp")
    tmp.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="rcflow-pdf-") as profile:
        command = [binary, *_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={tmp}",
                   html.resolve().as_uri()]  # fmt: skip
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise PdfError(f"Chromium took more than {timeout:.0f} s to print {html.name}") from None
    if done.returncode != 0 or not tmp.exists() or tmp.read_bytes()[:5] != b"%PDF-":
        last = (done.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1][:200]
        tmp.unlink(missing_ok=True)
        raise PdfError(f"Chromium could not print {html.name} (exit {done.returncode}): {last}")
    tmp.replace(pdf)
    return pdf
