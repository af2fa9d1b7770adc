"""Hub connectors: one package per invoice hub (eFACT, FACe) behind one interface.

Each connector will answer the same questions for the core (what is pending, fetch an invoice's
bundle, acknowledge it, push a state, read a history) and keep its hub's quirks to itself; the
simulator of a hub lives beside its client. Connectors import only leaves (``rcflow.clock``,
``rcflow.store``, ``rcflow.facturae``, ``rcflow.taxid``) and third-party libraries.
"""
