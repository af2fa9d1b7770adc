"""Hostile and damaged files are refused whole, saying where; nothing of them reaches the warehouse."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from accounting_helpers import count_events, load
from typer.testing import CliRunner

from rcflow.push.accounting import ImportRefused

HEADER = b"invoice_id,state,date,rcf_number,reason_code,reason\n"
GOOD = b"500,RECOGNISED,2025-02-01,,,\n"


def refused(warehouse: Path, path: Path, **options: object) -> list[str]:
    with pytest.raises(ImportRefused) as info:
        load(warehouse, path, **options)  # type: ignore[arg-type]
    assert count_events(warehouse) == 0  # all or nothing: the good row is not loaded either
    return info.value.problems


def write(tmp_path: Path, body: bytes, name: str = "events.csv", header: bytes = HEADER) -> Path:
    path = tmp_path / name
    path.write_bytes(header + GOOD + body)
    return path


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # A UTF-8 file (it has 'é' as UTF-8) with one Latin-1 byte: damaged, never guessed.
        (b"100,REJECTED,2025-01-12,,,caf\xc3\xa9 \xe9 ok\n",
         "events.csv:3:32: invalid UTF-8 (byte 0xE9) in a file that is UTF-8 elsewhere: the file is damaged; "
         "nothing was read"),
        # A byte Windows-1252 leaves undefined.
        (b"100,REJECTED,2025-01-12,,,caf\x81 ok\n",
         "events.csv:3:30: byte 0x81 is neither UTF-8 nor Windows-1252; declare the encoding with "
         "--encoding"),
        # A stray UTF-8 lead byte: as Windows-1252 it would be 'Ã', the mark of mojibake.
        (b"100,REJECTED,2025-01-12,,,caf\xc3 ok\n",
         "events.csv:3:30: invalid UTF-8 (byte 0xC3 at 3:30) and not plausible Windows-1252 "
         "(U+00C3 (LATIN CAPITAL LETTER A WITH TILDE)); declare the encoding with --encoding"),
    ],
)
def test_invalid_utf8_is_refused_with_line_and_column(
    seeded: Path, tmp_path: Path, body: bytes, expected: str
) -> None:
    assert refused(seeded, write(tmp_path, body)) == [expected]


def test_invalid_utf8_after_a_bom_or_a_declared_utf8(seeded: Path, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_bytes(b"\xef\xbb\xbf" + HEADER + GOOD + b"100,REJECTED,2025-01-12,,,caf\xe9 ok\n")
    assert refused(seeded, path) == [
        "events.csv:3:30: bytes E9 are not valid utf-8 (the file starts with a UTF-8 BOM); nothing was read"
    ]
    path.write_bytes(HEADER + GOOD + b"100,REJECTED,2025-01-12,,,caf\xe9 ok\n")
    assert refused(seeded, path, encoding="utf-8") == [
        "events.csv:3:30: bytes E9 are not valid utf-8 (declared utf-8); nothing was read"
    ]
    utf8 = tmp_path / "utf8.csv"
    utf8.write_bytes(HEADER + GOOD + "100,REJECTED,2025-01-12,,,falta el número\n".encode())
    assert refused(seeded, utf8, encoding="windows-1252") == [
        "utf8.csv: windows-1252 was declared but the file is UTF-8 (it would read as mojibake, "
        "e.g. 'nÃºmero'); leave --encoding out"
    ]
    assert refused(seeded, path, encoding="klingon") == [
        "events.csv: unknown encoding 'klingon' (e.g. utf-8, windows-1252)"
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"100,ANNOTATED,2025-01-12,RCF\x00-1,,\n",
         "events.csv:3:29: control character U+0000 (NUL) refused"),
        (b"100,REJECTED,2025-01-12,,,\x1b[2J\x1b[31mpwned\n",
         "events.csv:3:27: control character U+001B (ESC) refused"),
        (b"100,REJECTED,2025-01-12,,,\xc2\x9b31m csi\n", "events.csv:3:27: control character U+009B"),
        (b"100,REJECTED,2025-01-12,,,abc\xe2\x80\xaecba\n",
         "events.csv:3:30: control character U+202E (RIGHT-TO-LEFT OVERRIDE) refused"),
        (b"100,REJECTED,2025-01-12,,,caf\xef\xbf\xbd ok\n",
         "events.csv:3:30: U+FFFD (REPLACEMENT CHARACTER): the text was damaged before it reached rcflow"),
        (b'100,REJECTED,2025-01-12,,,"two\nlines"\n',
         "events.csv:3: column 'reason' (F): control character U+000A (LF) refused at character 4"),
        (b'100,REJECTED,2025-01-12,,,"a\ttab"\n',
         "events.csv:3: column 'reason' (F): control character U+0009 (TAB) refused at character 2"),
    ],
)
def test_control_characters_are_refused(seeded: Path, tmp_path: Path, body: bytes, expected: str) -> None:
    problems = refused(seeded, write(tmp_path, body))
    assert problems[0].startswith(expected), problems


def test_control_characters_in_typed_files_are_refused_too(seeded: Path, tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {"invoice_id": ["100"], "state": ["ANNOTATED"], "date": ["2025-01-12"], "rcf_number": ["RCF\x1b[31m"]}
    )
    frame.write_parquet(tmp_path / "e.parquet")
    assert refused(seeded, tmp_path / "e.parquet") == [
        "e.parquet:2: column 'rcf_number': control character U+001B (ESC) refused at character 4"
    ]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (b"100,REJECTED,2025-01-12,,,%s\n" % (b"x" * 10 * 1024 * 1024),
         "events.csv:3: column 'reason' (F): 10485760 characters; at most 500 accepted "
         "(descripcioMotiuRebuig)"),
        (b"100,ANNOTATED,2025-01-12,%s,,\n" % (b"R" * 51),
         "events.csv:3: column 'rcf_number' (D): 51 characters; at most 50 accepted (numeroRegistreRCF)"),
        (b"100,REJECTED,2025-01-12,,%s,why\n" % (b"C" * 21),
         "events.csv:3: column 'reason_code' (E): 21 characters; at most 20 accepted (codiMotiuRebuig)"),
    ],
)
def test_lengths_beyond_the_limits_are_refused(
    seeded: Path, tmp_path: Path, row: bytes, expected: str
) -> None:
    assert refused(seeded, write(tmp_path, row)) == [expected]


def test_the_limit_itself_is_accepted(seeded: Path, tmp_path: Path) -> None:
    reason = "é" * 500  # characters, not bytes
    load(seeded, write(tmp_path, b"100,REJECTED,2025-01-12,,,%s\n" % reason.encode()))
    assert count_events(seeded) == 2


@pytest.mark.parametrize(
    ("content", "options", "expected"),
    [
        # The header with ';', the rows with ',' (two exports pasted together).
        (b"invoice_id;state;date\n100,RECOGNISED,2025-02-01\n", {},
         "events.csv:2: 1 field(s) where the header has 3; the separator looks like ',' on this line "
         "(the header uses ';': one separator for the whole file)"),
        # A ';' file declared as ','.
        (b"invoice_id;state;date\n100;RECOGNISED;2025-02-01\n", {"separator": ","},
         "events.csv:1: the header reads as 1 column(s) with the separator ','; "
         "the separator looks like ';'"),
        # Decimal commas in a comma-separated file, unquoted.
        (b"invoice_id,state,date,amount\n100,RECOGNISED,2025-02-01,100,00\n", {},
         "events.csv:2: 5 field(s) where the header has 4: a decimal comma in an unquoted number? "
         "Quote it or separate fields with ';'"),
        # A stray quote.
        (b'invoice_id,state,date\n100,"RECOGNISED"x,2025-02-01\n', {},
         "events.csv:2: not valid CSV: ',' expected after '\"'"),
    ],
)
def test_a_wrong_separator_is_named(
    seeded: Path, tmp_path: Path, content: bytes, options: dict, expected: str
) -> None:
    path = tmp_path / "events.csv"
    path.write_bytes(content)
    assert refused(seeded, path, **options) == [expected]


def test_wrongly_typed_parquet_is_a_refused_file_exit_2(seeded: Path, tmp_path: Path, monkeypatch) -> None:
    from rcflow.cli.main import app

    frame = pl.DataFrame({"invoice_id": ["100"], "state": ["RECOGNISED"], "date": [["2025-02-01"]]})
    frame.write_parquet(tmp_path / "typed.parquet")
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(seeded))
    result = CliRunner().invoke(app, ["accounting", "import", str(tmp_path / "typed.parquet")])
    assert result.exit_code == 2, result.output
    line = "typed.parquet: column 'date' is List(String); expected a date or text (YYYY-MM-DD)"
    assert line in result.output
    assert "unexpected error" not in result.output
    assert count_events(seeded) == 0


def test_a_float_invoice_id_is_refused_not_rounded(seeded: Path, tmp_path: Path) -> None:
    frame = pl.DataFrame({"invoice_id": [100.0], "state": ["RECOGNISED"], "date": ["2025-02-01"]})
    frame.write_parquet(tmp_path / "f.parquet")
    assert refused(seeded, tmp_path / "f.parquet") == [
        "f.parquet: column 'invoice_id' is Float64; expected text or an integer"
    ]


def test_hostile_text_never_reaches_the_terminal(seeded: Path, tmp_path: Path, monkeypatch) -> None:
    from rcflow.cli.main import app

    path = write(tmp_path, b"100\x1b]0;owned\x07,REJECTED,2025-01-12,,,[bold]x[/]\n")
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(seeded))
    result = CliRunner().invoke(app, ["accounting", "import", str(path)])
    assert result.exit_code == 2
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "events.csv:3:4: control character U+001B (ESC) refused" in result.output


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("e.xlsx", b"PK\x03\x04 not a workbook",
         "e.xlsx: cannot be read as XLSX: File is not a zip file"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
         "old.xls: an Excel 97-2003 (.xls) workbook is not read; save it as .xlsx or CSV"),
        ("e.json", b'["100", "RECOGNISED"]', "e.json: cannot be read as JSON: expected an array of objects"),
        ("e.json", b'[{"invoice_id": "100", "state": "RECOGNISED", "date": {"d": 1}}]',
         "e.json: column 'date' is Struct({'d': Int64}); expected a date or text (YYYY-MM-DD)"),
    ],
)
def test_files_that_are_not_what_they_say(
    seeded: Path, tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    (tmp_path / name).write_bytes(content)
    assert refused(seeded, tmp_path / name) == [expected]
