"""The catalogues are complete and compiled from source; the reading settings and method labels have
one definition (readings.py) that dbt's macros are generated from; RCFLOW_LANGUAGE is validated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from rcflow.config import ConfigError, load_settings
from rcflow.reports.dbt_runner import ReportBuildError, run_dbt_build
from rcflow.reports.i18n import LANGUAGES, LOCALES_DIR, catalogue_path, translations
from rcflow.reports.periods import NEW_METHOD_FROM
from rcflow.reports.readings import (
    CHOICES,
    MACROS_FILE,
    METHOD_LABELS,
    Readings,
    dbt_macros,
    generated_section,
    write_dbt_macros,
)

REPO = Path(__file__).resolve().parents[2]


def _extracted() -> Catalog:
    """Every message the code and the templates use, as ``pybabel extract`` finds them."""
    with (REPO / "reports" / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    catalog = Catalog()
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    for filename, lineno, message, comments, context in extract_from_dir(
        str(REPO), method_map=method_map, options_map=options_map, keywords=keywords
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_every_message_is_translated_and_nothing_is_stale(lang: str) -> None:
    wanted = _extracted()
    assert len(wanted) > 250  # pages, CSV headers, readings, documents
    with catalogue_path(lang).open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    have = {m.id: m for m in catalog if m.id}
    missing = [m.id for m in wanted if m.id and m.id not in have]
    stale = [key for key in have if key not in wanted]  # a Catalog looks messages up by id
    empty = [m.id for m in have.values() if not all(m.string if isinstance(m.string, tuple) else (m.string,))]
    fuzzy = [m.id for m in have.values() if m.fuzzy]
    assert not missing, f"{lang}: not in the catalogue: {missing[:5]}"
    assert not stale, f"{lang}: no longer used: {stale[:5]}"
    assert not empty and not fuzzy, f"{lang}: untranslated {empty[:5]}, fuzzy {fuzzy[:5]}"
    problems = [(m.id, errors) for m, errors in catalog.check()]  # python-format placeholders match
    assert not problems, problems[:3]


def test_catalogues_are_compiled_from_the_po_files_once() -> None:
    """No compiled .mo is kept: a fresh clone compiles the .po files in memory, once per process."""
    assert not list(LOCALES_DIR.rglob("*.mo"))
    assert translations("ca") is translations("ca")
    assert translations("es").gettext("Average period of payment to suppliers") == (
        "Periodo medio de pago a proveedores"
    )
    assert translations("en").gettext("Average period of payment to suppliers") == (
        "Average period of payment to suppliers"
    )


def test_the_dbt_macros_are_generated_from_readings_py(tmp_path: Path) -> None:
    """readings.sql holds the generated section as readings.py writes it, and no copy of a value."""
    text = MACROS_FILE.read_text(encoding="utf-8")
    assert generated_section(text) == dbt_macros()
    by_hand = text.replace(dbt_macros(), "")
    lists = re.findall(r"\[[^\]]*\]", by_hand)  # a copied list of choices would be one of these
    assert "['month', 'quarter']" in lists  # the period kind: not a reading
    for values in CHOICES.values():
        assert not [x for x in lists for value in values if f"'{value}'" in x or f'"{value}"' in x]
    for label in METHOD_LABELS.values():
        assert label not in by_hand
    drifted = tmp_path / "readings.sql"
    drifted.write_text(text.replace('"exclude_until_accepted"', '"exclude_forever"'), encoding="utf-8")
    assert write_dbt_macros(drifted) is True and drifted.read_text(encoding="utf-8") == text
    assert write_dbt_macros(drifted) is False


def test_dbt_refuses_a_reading_readings_py_does_not_know(main_q1, tmp_path: Path) -> None:
    """dbt validates against the generated choices, and labels with the generated labels."""
    assert {r["method_label"] for r in main_q1.csv("pmp.csv")} == {METHOD_LABELS["rd1040_2017"]}
    variables = {"period_start": "2025-01-01", "period_end": "2025-03-31", "period_label": "2025-Q1",
                 "period_kind": "quarter", "today": "2025-04-01", **Readings().to_vars(),
                 "credit_notes": "net", "extra_interest_rates": [], "administrations": [],
                 "pmp_method_from": NEW_METHOD_FROM.isoformat()}  # fmt: skip
    snapshot = main_q1.out.parent / "warehouse.snapshot.duckdb"
    with pytest.raises(ReportBuildError, match="credit_notes=net is not one of exclude_and_flag, include"):
        run_dbt_build(snapshot=snapshot, reports_db=tmp_path / "r.duckdb", variables=variables,
                      work_dir=tmp_path, checks=False, select=("pmp",))  # fmt: skip


@pytest.mark.parametrize(("given", "kept"), [("ca", "ca"), (" ES ", "es"), ("en", "en")])
def test_rcflow_language_is_validated(monkeypatch: pytest.MonkeyPatch, given: str, kept: str) -> None:
    monkeypatch.setenv("RCFLOW_LANGUAGE", given)
    assert load_settings().language == kept
    monkeypatch.setenv("RCFLOW_LANGUAGE", "fr")
    with pytest.raises(ConfigError, match="RCFLOW_LANGUAGE must be one of ca, es, en"):
        load_settings()


def test_the_default_language_is_catalan(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RCFLOW_LANGUAGE", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env
    assert load_settings().language == "ca"
