"""Hub connectors: one package per invoice hub (eFACT, FACe) behind one interface.

``base`` defines the interface the core speaks to (what is pending, fetch an invoice's bundle,
acknowledge it, push a state, read a history) and the values it returns; ``registry`` is the one
place a connector is chosen from the settings. Each hub package keeps its quirks to itself, and
the simulator of a hub lives beside its client. Connectors import only leaves (``rcflow.clock``,
``rcflow.store``, ``rcflow.facturae``, ``rcflow.taxid``) and third-party libraries.
"""
