"""Thin Prefect tasks: each calls one rcflow function; the logic lives in `rcflow/`."""
