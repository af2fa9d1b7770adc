"""report.html and dashboard.html: self-contained, rendered by headless Chromium without errors."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from rep_browser import Browser, chromium_available
from rep_scenarios import E1, E2

from rcflow.reports import build_reports
from rcflow.reports import html as pages_html
from rcflow.reports.periods import parse_period
from rcflow.reports.readings import Readings

needs_chromium = pytest.mark.skipif(
    not chromium_available(), reason="chromium is not installed (make chromium installs it)"
)

# Any fetch of an outside resource: src/href/url() to a scheme, or @import.
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import""")


@pytest.mark.parametrize("page", ["report.html", "dashboard.html"])
def test_pages_are_self_contained(main_q1, page):
    """No external URL, stylesheet or script: the page can be e-mailed as one file."""
    html = (main_q1.out / page).read_text(encoding="utf-8")
    assert not EXTERNAL.search(html)
    assert "<link" not in html and "<script src" not in html
    assert "<style>" in html


def test_report_shows_the_figures_and_the_reading(main_q1):
    """Headline figures (an English page: build_reports without a language), the method label,
    quarantine reasons and the reading settings are all on the page (figures:
    test_rep_worked_examples; other languages: test_rep_lang_pages)."""
    html = (main_q1.out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html
    assert "32.87" in html and "46.88" in html and "28.33" in html
    assert "RD 635/2014 in the wording of RD 1040/2017 (from 04/2018)" in html
    assert "amount_mismatch" in html and "signature_invalid" in html
    assert "pending_without_acceptance" in html and "include_from_registry" in html
    assert html.count("<svg") >= 3


def test_a_long_invoice_list_shows_its_largest_amounts_and_says_how_many_there_are(
    main_q1, monkeypatch
):
    """The page lists at most PAGE_LIST_LIMIT invoices with findings (the largest amounts) and
    says how many there are; report.json keeps every one. Here the limit is 1 of the 2 (Q,
    5,000 EUR; Q2, 800 EUR)."""
    run = pages_html.RunFacts(generated_at=datetime(2025, 4, 1, 8, tzinfo=UTC), as_of=date(2025, 3, 31),
                              today=date(2025, 4, 1), administrations_note="")  # fmt: skip
    with duckdb.connect(str(main_q1.db), read_only=True) as con:
        full = pages_html.render_report(con, parse_period("2025-Q1"), Readings(), run)
        monkeypatch.setattr(pages_html, "PAGE_LIST_LIMIT", 1)
        cut = pages_html.render_report(con, parse_period("2025-Q1"), Readings(), run)
    assert "<code>Q2</code>" in full and "data-list-cut" not in full
    assert "<code>Q</code>" in cut and "<code>Q2</code>" not in cut
    assert "The 1 largest of 2 invoices with open findings; report.json lists every one." in cut


@needs_chromium
def test_report_renders_without_console_errors(main_q1, tmp_path: Path):
    """Chromium loads report.html with no console error; the screenshot is a real image."""
    with Browser() as browser:
        browser.open(main_q1.out / "report.html")
        shot = browser.screenshot(tmp_path / "report.png")
        assert browser.evaluate("document.querySelectorAll('svg').length") >= 3
        assert browser.evaluate("document.title").startswith("Supplier payment periods")
    assert browser.errors == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


@needs_chromium
def test_dashboard_filters_per_entity(main_q1, tmp_path: Path):
    """The entity filter updates the figures and the tables without console errors."""
    with Browser() as browser:
        browser.open(main_q1.out / "dashboard.html")
        kpi = "document.querySelector('[data-kpi=invoices]').textContent"
        assert browser.evaluate(kpi) == "10"
        funnel = browser.evaluate(
            "Array.from(document.querySelectorAll('#funnel .row')).map(r => r.textContent)"
        )
        # Q and Q2 (open findings) count: they are in the funnel too.
        assert funnel[0] == "Registered8" and funnel[-1] == "Rejected1"
        browser.evaluate(
            f"const s = document.getElementById('entity'); s.value = '{E2}';"
            "s.dispatchEvent(new Event('change'))"
        )
        assert browser.evaluate(kpi) == "2"  # F and the quarantined Q2
        visible = browser.evaluate(
            "Array.from(document.querySelectorAll('#oldest tbody tr[data-entity]'))"
            ".filter(tr => !tr.hidden).map(tr => tr.dataset.entity)"
        )
        assert set(visible) <= {E2}
        owed_empty = "!document.querySelector('#owed tr.none').hidden"
        assert browser.evaluate(owed_empty) is True  # E2 owes nothing to the hub
        browser.evaluate(
            f"const t = document.getElementById('entity'); t.value = '{E1}';"
            "t.dispatchEvent(new Event('change'))"
        )
        assert browser.evaluate(owed_empty) is False  # D's RECOGNISED is owed
        browser.screenshot(tmp_path / "dashboard.png")
    assert browser.errors == []


def test_a_report_built_in_memory_writes_the_same_files_as_one_kept_on_disk(main_q1, tmp_path):
    """The default build (no reports_db: marts in memory) against the fixture's build into a
    file: same CSVs byte for byte, same headline."""
    result = build_reports(main_q1.out.parent / "warehouse.duckdb", "2025-Q1", tmp_path)
    assert result.headline == main_q1.result.headline
    kept = sorted(p.name for p in main_q1.out.glob("*.csv"))
    assert kept and kept == sorted(p.name for p in tmp_path.glob("*.csv"))
    for name in kept:
        assert (tmp_path / name).read_bytes() == (main_q1.out / name).read_bytes(), name
    assert not list(tmp_path.glob("*.duckdb*"))


def test_the_figures_with_findings_are_listed_in_their_declared_order(main_q1):
    """The four legal figures come in one order on every run (a UNION ALL's branches run in
    parallel, so the query orders them; the pages were seen to swap two rows)."""
    from rcflow.reports import pages

    with duckdb.connect(str(main_q1.db), read_only=True) as con:
        rows = pages.legal_notes(con)["findings_by_figure"]
    assert [r["figure"] for r in rows] == ["PMP", "Morosity", "Art. 10 list", "Late-payment interest"]


def test_a_csv_that_cannot_be_written_fails_the_run_and_writes_no_report_json(
    main_q1, tmp_path, monkeypatch
):
    """The CSVs are written on their own cursor while the pages render: a failure there (a full
    disk) must still fail the run, after the pages' work, with no report.json claiming a
    complete report."""
    from rcflow.reports import build as report_build

    real = report_build.write_csvs

    def disk_full(con, out_dir, **kwargs):
        real(con, out_dir, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report_build, "write_csvs", disk_full)
    with pytest.raises(OSError, match="No space left"):
        build_reports(main_q1.out.parent / "warehouse.duckdb", "2025-Q1", tmp_path)
    assert not (tmp_path / "report.json").exists()
    assert not (tmp_path / "report.html").exists()
