"""rcflow: run an invoice registry (RCF) against the eFACT hub."""

__version__ = "0.1.0"
