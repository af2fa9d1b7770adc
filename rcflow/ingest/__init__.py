"""Draining a hub into the warehouse: fetch → verify → store → acknowledge.

Owns: the drain (``sync``, ``run``), fetching bundles (``bundle``, ``fetchers``), the Facturae
parse of a batch (``facturae_step``) and shaping fetched data as the warehouse's rows (``rows``,
``load``: rows in, ``rcflow.warehouse.raw`` writes them).

May import: ``rcflow.warehouse``, the connectors, ``rcflow.facturae``, ``rcflow.store``, the
leaves. Never ``push``, ``quality``, ``reports``, ``cli``, ``flows`` or ``tasks``.
"""
