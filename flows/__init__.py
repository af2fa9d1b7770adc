"""Prefect flows, one per file; each is a thin recipe over `tasks/` and `rcflow/`."""
