"""efirma GO tests: a real simulator on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from efirma_support import CLIENT, DEVELOPER, PRIVATE_KEY, settings_for

from rcflow.signing.efirma.client import EfirmaClient
from rcflow.signing.efirma.simulator import EfirmaSim, RunningEfirma


@pytest.fixture
def efirma() -> Iterator[RunningEfirma]:
    sim = EfirmaSim(
        private_key=PRIVATE_KEY,
        developer_cif=DEVELOPER,
        clients={CLIENT: "intervencio@aj.cat"},
        sign_after=None,
        lose_answer_delay=1.5,
    )
    with RunningEfirma(sim) as running:
        yield running


@pytest.fixture
def client(efirma: RunningEfirma) -> Iterator[EfirmaClient]:
    with EfirmaClient(settings_for(efirma), backoff=0.01) as made:
        yield made
