"""Hub connectors: one package per invoice hub (eFACT, FACe) behind one interface.

``base`` defines the interface the core speaks to (the entities, what is pending, fetch an
invoice's bundle, acknowledge it, refresh it, read a history, push states) and the core records
it returns (each hub translates its own answers into them); ``registry`` is the one place a
connector is chosen from the settings; ``deadline`` and ``retries`` are the rules both hubs'
clients share (when an answer counts as stalled; how a read is retried). Each hub package keeps
its quirks to itself, and the simulator of a hub lives beside its client. Connectors import only
leaves (``rcflow.clock``, ``rcflow.store``, ``rcflow.facturae``, ``rcflow.taxid``,
``rcflow.lifecycle``, ``rcflow.loopback``: the simulators' server) and
third-party libraries.
"""
