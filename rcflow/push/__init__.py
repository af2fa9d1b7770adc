"""Bringing accounting facts to the hub: import events, reconcile, push through an outbox."""
