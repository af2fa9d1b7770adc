"""Tasks: send a legal document for signature, collect signed documents."""

from __future__ import annotations

from prefect import task

from rcflow.config import Settings


@task(name="send-for-signature")
def send_for_signature(settings: Settings, period: str, document: str, lang: str | None):  # type: ignore[no-untyped-def]
    """Build the document's PDF and send it (once per period and language)."""
    from rcflow.signing.run import sign_period

    return sign_period(settings, period, document, lang)


@task(name="collect-signatures")
def collect_signed(settings: Settings):  # type: ignore[no-untyped-def]
    """Poll the signing service; store what came back signed."""
    from rcflow.signing.run import collect_signatures

    return collect_signatures(settings)
