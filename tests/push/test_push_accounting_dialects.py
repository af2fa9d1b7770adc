"""Real exports give exactly the rows of the clean CSV: Excel in Spanish and Catalan, TSV, XLSX, an ERP."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from accounting_helpers import FIXTURES, REASON, imported, load, prepare

CLEAN_EVENTS = [
    ("100", "ANNOTATED", date(2025, 1, 12), "RCF-2025-000100", None, None, 2),
    ("100", "RECOGNISED", date(2025, 2, 1), None, None, None, 3),
    ("300", "PAID", date(2025, 2, 20), None, None, None, 6),
    ("500", "REJECTED", date(2025, 2, 3), None, "E01", REASON, 4),
]
CLEAN_EXCLUSIONS = [
    ("200", "embargo", "Diligència d'embargament 2025/17", 5),
    ("300", "public_body", None, 6),
]


@pytest.fixture
def warehouse(seeded: Path) -> Path:
    prepare(seeded)
    return seeded


def test_the_clean_csv(warehouse: Path) -> None:
    result = load(warehouse, FIXTURES / "clean.csv")
    assert (result.rows, result.new_events, result.exclusions) == (5, 4, 2)
    assert (result.encoding, result.separator) == ("utf-8", ",")
    assert imported(warehouse) == (CLEAN_EVENTS, CLEAN_EXCLUSIONS)


@pytest.mark.parametrize(
    ("name", "encoding", "separator"),
    [
        # Excel "CSV (delimitado por comas)" in a Spanish locale: ';', Windows-1252, CRLF, dd/mm/yyyy,
        # decimal comma with thousands points, Spanish headers, states and exclusions.
        ("excel_es_cp1252.csv", "windows-1252 (detected)", ";"),
        # Excel "CSV UTF-8" in a Catalan locale: BOM, ';', CRLF, d/m/yyyy, Catalan headers and words.
        ("excel_ca_utf8_bom.csv", "utf-8", ";"),
        # Tab-separated with old-Mac CR line ends.
        ("events_cr.tsv", "utf-8", "\t"),
    ],
)
def test_excel_and_text_dialects_give_the_clean_rows(
    warehouse: Path, name: str, encoding: str, separator: str
) -> None:
    result = load(warehouse, FIXTURES / name)
    assert (result.encoding, result.separator) == (encoding, separator)
    assert imported(warehouse) == (CLEAN_EVENTS, CLEAN_EXCLUSIONS)


def test_windows_1252_text_is_stored_byte_for_byte(warehouse: Path) -> None:
    raw = (FIXTURES / "excel_es_cp1252.csv").read_bytes()
    assert b"n\xfamero" in raw  # the fixture really is Windows-1252 ('ú' is one byte, 0xFA)
    load(warehouse, FIXTURES / "excel_es_cp1252.csv")
    events, exclusions = imported(warehouse)
    reason = next(e[5] for e in events if e[1] == "REJECTED")
    assert reason.encode("utf-8") == b"falta el n\xc3\xbamero d'expedient"
    assert exclusions[0][2].encode("utf-8") == "Diligència d'embargament 2025/17".encode()


def test_declared_encoding_reads_the_same(warehouse: Path) -> None:
    result = load(warehouse, FIXTURES / "excel_es_cp1252.csv", encoding="windows-1252")
    assert result.encoding == "windows-1252 (declared)"
    assert imported(warehouse) == (CLEAN_EVENTS, CLEAN_EXCLUSIONS)


def test_xlsx_written_by_openpyxl(warehouse: Path, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Id factura", "Estat", "Data", "numeroRegistreRCF", "codiMotiuRebuig",
                  "descripcioMotiuRebuig", "Import", "Exclusió", "Nota exclusió"])
    sheet.append([100, "ANNOTATED", datetime(2025, 1, 12), "RCF-2025-000100", None, None, 100.0])
    sheet.append([100, "RECOGNISED", date(2025, 2, 1), None, None, None, 100])
    sheet.append([500, "REJECTED", datetime(2025, 2, 3), None, "E01", REASON, 8054.53])
    sheet.append([200, None, None, None, None, None, None, "embargo", "Diligència d'embargament 2025/17"])
    sheet.append([300, "Pagada", "20/02/2025", None, None, None, 100.0, "public_body"])
    sheet.append([])  # an empty row, as spreadsheets keep them, is skipped
    book.save(tmp_path / "events.xlsx")
    result = load(warehouse, tmp_path / "events.xlsx")
    assert result.format == "xlsx"
    assert imported(warehouse) == (CLEAN_EVENTS, CLEAN_EXCLUSIONS)


def test_xlsx_with_a_time_of_day_is_refused_with_its_cell(warehouse: Path, tmp_path: Path) -> None:
    from rcflow.push.accounting import ImportRefused

    book = openpyxl.Workbook()
    book.active.append(["invoice_id", "state", "date"])
    book.active.append([100, "RECOGNISED", datetime(2025, 2, 1, 10, 30)])
    book.save(tmp_path / "t.xlsx")
    with pytest.raises(ImportRefused) as info:
        load(warehouse, tmp_path / "t.xlsx")
    assert info.value.problems == [
        "t.xlsx:2: column 'date' (C): bad date '2025-02-01 10:30:00' (a date and a time (expected a date))"
    ]


def test_an_erp_export_through_a_mapping_file(warehouse: Path) -> None:
    result = load(warehouse, FIXTURES / "erp_export.csv", mapping=FIXTURES / "erp_mapping.yml")
    assert result.separator == ","  # quoted cells keep the decimal commas inside
    assert imported(warehouse) == (CLEAN_EVENTS, CLEAN_EXCLUSIONS)


def test_the_erp_export_without_its_mapping_says_what_to_do(warehouse: Path) -> None:
    from rcflow.push.accounting import ImportRefused

    with pytest.raises(ImportRefused) as info:
        load(warehouse, FIXTURES / "erp_export.csv")
    assert info.value.problems == [
        "erp_export.csv:1: no state column (nor an exclusion column); columns not recognised: 'Situació', "
        "'F. comptable', 'Núm. assentament', 'Cod. rebuig', 'Text rebuig', 'Total factura', "
        "'Tipus exclusió', 'Observacions', 'Centre de cost' (name them in a --mapping file; README, "
        "'Accounting files')"
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("columns: {invoice_id: Id}\nstates: {SENT: Enviada}\n", "states: unknown name 'SENT'"),
        ("colums: {invoice_id: Id}\n", "unknown key(s) colums"),
        ("columns: {invoice: Id}\n", "columns: unknown name 'invoice'"),
        ("- a\n- b\n", "expected a YAML mapping"),
        ("separator: '#'\n", "separator must be one of"),
        ("states: {PAID: ON}\n", "states: PAID: True is not a name (quote it)"),
    ],
)
def test_a_bad_mapping_file_is_a_usage_error(tmp_path: Path, content: str, expected: str) -> None:
    from rcflow.config import ConfigError
    from rcflow.push.accounting import load_mapping

    path = tmp_path / "m.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        load_mapping(path)


def test_parquet_and_json_with_typed_columns_give_the_clean_rows(warehouse: Path, tmp_path: Path) -> None:
    frame = pl.read_csv(FIXTURES / "clean.csv", infer_schema=False).with_columns(
        pl.col("invoice_id").cast(pl.Int64), pl.col("date").str.to_date(), pl.col("amount").cast(pl.Float64)
    )
    frame.write_parquet(tmp_path / "e.parquet")
    result = load(warehouse, tmp_path / "e.parquet")
    assert result.format == "parquet"
    assert imported(warehouse) == (CLEAN_EVENTS, CLEAN_EXCLUSIONS)


def test_json_gives_the_clean_rows(seeded: Path, tmp_path: Path) -> None:
    prepare(seeded)
    frame = pl.read_csv(FIXTURES / "clean.csv", infer_schema=False)
    frame.write_json(tmp_path / "e.json")
    load(seeded, tmp_path / "e.json")
    assert imported(seeded) == (CLEAN_EVENTS, CLEAN_EXCLUSIONS)


def test_every_fixture_is_what_it_claims() -> None:
    """Git must not normalise the fixtures' bytes (BOM, CRLF, CR, Windows-1252)."""
    assert (FIXTURES / "excel_ca_utf8_bom.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in (FIXTURES / "excel_es_cp1252.csv").read_bytes()
    tsv = (FIXTURES / "events_cr.tsv").read_bytes()
    assert b"\r" in tsv and b"\n" not in tsv


def test_utf16_tab_text_as_excel_saves_unicode_text(warehouse: Path, tmp_path: Path) -> None:
    text = (FIXTURES / "clean.csv").read_text(encoding="utf-8").replace(",", "\t").replace("\n", "\r\n")
    (tmp_path / "unicode.txt").write_bytes(text.encode("utf-16"))  # with its BOM, little-endian here
    result = load(warehouse, tmp_path / "unicode.txt")
    assert (result.encoding, result.separator) == ("utf-16", "\t")
    assert imported(warehouse) == (CLEAN_EVENTS, CLEAN_EXCLUSIONS)


def test_excel_sep_line_names_the_separator(warehouse: Path, tmp_path: Path) -> None:
    body = (FIXTURES / "clean.csv").read_text(encoding="utf-8").replace(",", "|")
    (tmp_path / "sep.csv").write_text("sep=|\n" + body, encoding="utf-8")
    result = load(warehouse, tmp_path / "sep.csv")
    assert result.separator == "|"
    # Excel hides the sep= line: the header is line 1 as Excel shows it, the rows keep their numbers
    assert imported(warehouse) == (CLEAN_EVENTS, CLEAN_EXCLUSIONS)


def test_an_error_after_a_sep_line_names_the_row_as_excel_shows_it(warehouse: Path, tmp_path: Path) -> None:
    from rcflow.push.accounting import ImportRefused

    lines = ["sep=;", "Id factura;Estado;Fecha pago;Importe", "300;Pagada;32/10/2024;100,00"]
    (tmp_path / "sep.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    with pytest.raises(ImportRefused) as info:
        load(warehouse, tmp_path / "sep.csv")
    assert info.value.problems == ["sep.csv:2: column 'Fecha pago' (C): bad date '32/10/2024' (no such day)"]


def test_every_built_in_name_means_one_thing() -> None:
    from rcflow.push.accounting.columns import COLUMN_NAMES, EXCLUSION_NAMES, STATE_NAMES, normalise

    for table in (COLUMN_NAMES, STATE_NAMES, EXCLUSION_NAMES):
        meaning: dict[str, object] = {}
        for key, words in table.items():
            for word in (str(getattr(key, "value", key)), *words):
                assert meaning.setdefault(normalise(word), key) == key, word


def test_the_command_line_says_how_it_read_the_file(warehouse: Path, tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from rcflow.cli.main import app

    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(warehouse))
    runner = CliRunner()
    result = runner.invoke(app, ["accounting", "import", str(FIXTURES / "excel_es_cp1252.csv")])
    assert result.exit_code == 0, result.output
    assert " ".join(result.stdout.split()) == (  # the test terminal wraps at 80 columns
        "excel_es_cp1252.csv: 5 rows, 4 new events, 2 exclusions (read as windows-1252 (detected))"
    )
    bad = tmp_path / "bad.yml"
    bad.write_text("columns: {invoice: Id}\n", encoding="utf-8")
    refused = runner.invoke(app, ["accounting", "import", "--mapping", str(bad), str(FIXTURES / "clean.csv")])
    assert refused.exit_code == 2
    assert "bad.yml: columns: unknown name 'invoice'" in refused.output
