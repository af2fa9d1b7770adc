"""The values a connector hands the ingest (defined with the interface, in ``rcflow.connectors.base``)."""

from rcflow.connectors.base import FetchedAttachment, FetchFailure, InvoiceBundle

__all__ = ["FetchFailure", "FetchedAttachment", "InvoiceBundle"]
