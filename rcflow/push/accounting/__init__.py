"""Importing accounting-system events and scope exclusions — validated whole, loaded whole.

One module per job: :mod:`.text` (strict decoding, forbidden characters), :mod:`.delimited`
(CSV dialects), :mod:`.readers` (CSV, XLSX, Parquet, JSON into text cells), :mod:`.columns` (the
column mapping), :mod:`.values` (dates, amounts, length limits), :mod:`.validate` (the rules),
:mod:`.load` (the all-or-nothing write). The accepted formats are documented in README.md,
"Accounting files".
"""

from rcflow.push.accounting.columns import ACCOUNTING_STATES, BUILT_IN, Mapping, MappingError, load_mapping
from rcflow.push.accounting.load import ImportRefused, ImportResult, import_events, known_invoices
from rcflow.push.accounting.readers import ReadOptions, read_options, read_table

__all__ = [
    "ACCOUNTING_STATES",
    "BUILT_IN",
    "ImportRefused",
    "ImportResult",
    "Mapping",
    "MappingError",
    "ReadOptions",
    "import_events",
    "known_invoices",
    "load_mapping",
    "read_options",
    "read_table",
]
