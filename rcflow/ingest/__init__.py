"""Draining a hub into the warehouse: fetch → make blobs durable → store rows → acknowledge.

Owns: the drain (``sync``, ``run``), the Facturae rows of a batch (``facturae_step``) and shaping
fetched data as the warehouse's rows (``rows``, ``load``: rows in, ``rcflow.warehouse.raw``
writes them). Speaks to hubs only through ``rcflow.connectors.base`` and picks the connector with
``rcflow.connectors.registry`` (``rows``/``load`` still map eFACT's models to rows).

May import: ``rcflow.warehouse``, the connectors, ``rcflow.facturae``, ``rcflow.store``, the
leaves. Never ``push``, ``quality``, ``reports``, ``cli``, ``flows`` or ``tasks``.
"""
