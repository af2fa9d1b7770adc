"""Bringing accounting facts to the hub: import events, plan, push through the outbox.

Owns: the accounting import (``accounting``), the push plan (``plan``: orders and batches the
rows of the warehouse's ``ops.owed_updates``, which decides what is owed), its execution
(``execute``: pre-flight, waves, ambiguous answers) and the entry points (``run``).

May import: ``rcflow.warehouse`` (every write goes through it), the eFACT connector
(``rcflow.connectors.efact``: client, payloads, history), the leaves. Never ``rcflow.ingest``,
``cli``, ``flows`` or ``tasks``.
"""
