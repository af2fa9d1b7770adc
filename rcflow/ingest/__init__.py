"""Draining a hub into the warehouse: fetch → make blobs durable → store rows → acknowledge.

Owns: the drain (``sync``, ``run``; ``cancellations``: a hub's cancellation requests and credit
assignments), the Facturae rows of a batch (``facturae_step``) and shaping a connector's records
as the warehouse's rows (``rows``, ``load``: rows in, ``rcflow.warehouse.raw`` writes them).
Speaks to hubs only through ``rcflow.connectors.base`` (the interface and its records) and picks
the connector with ``rcflow.connectors.registry``.

May import: ``rcflow.warehouse``, ``rcflow.connectors.base`` and ``registry`` (never a hub
package), ``rcflow.facturae``, ``rcflow.store``, the leaves. Never ``push``, ``quality``,
``reports``, ``cli``, ``flows`` or ``tasks``.
"""
