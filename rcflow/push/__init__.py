"""Bringing accounting facts to the hub: import events, plan, push through the outbox.

Owns: the accounting import (``accounting``), the push plan (``plan``: orders and batches the
rows of the warehouse's ``ops.owed_updates``, which decides what is owed, one hub's invoices at a
time, as hub-neutral ``StatePush``es), its execution (``execute``: pre-flight, waves, uncertain
answers, through the ``Connector`` interface), the entry points (``run``) and the answers to
cancellation requests (``cancellations``: each decision sent once, through the connector's
``HandlesCancellations``).

May import: ``rcflow.warehouse`` (every write goes through it), ``rcflow.connectors.base`` (the
interface and records) and ``rcflow.connectors.registry`` (which connector), the leaves
(``rcflow.lifecycle`` included). Never a hub package (``rcflow.connectors.efact``, ``face``),
``rcflow.ingest``, ``cli``, ``flows`` or ``tasks``.
"""
