"""Signing services: legal documents sent for signature, followed, and fetched back signed.

Owns the generic signer interface (:mod:`rcflow.signing.signer`) and one package per service
(:mod:`rcflow.signing.efirma`, the efirma GO REST/JSON API, with its simulator). The reports hand a
PDF and its signatories to a :class:`~rcflow.signing.signer.Signer`; they never see a service's
codes or payloads, so another service (a portasignatures) is added without touching them.

May import: the standard library, httpx, pydantic, pypdf, starlette/uvicorn (the simulators), the
leaf modules ``rcflow.clock``, ``rcflow.config``, ``rcflow.loopback`` (the simulator's server) and
``rcflow.store``, ``rcflow.warehouse`` (the signature records) and ``rcflow.reports`` (the
documents to sign). Nothing from ``rcflow.cli``,
``flows`` or ``tasks``.
"""
