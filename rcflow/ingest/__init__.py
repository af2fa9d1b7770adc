"""Ingest from the hub into the warehouse: pending invoices, late attachments, state refresh, backfill."""
