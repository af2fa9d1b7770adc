"""Every JWT error code the hub documents (1001-1012), over real loopback HTTP."""

from __future__ import annotations

import base64
import json
import time

import httpx
import jwt
import pytest

ISSUER = "hub_0012"
SECRET = "test-secret-0123456789-abcdefghijklmnop"


def _get(sim, header: str | None) -> httpx.Response:
    headers = {"Authorization": header} if header is not None else {}
    return httpx.get(f"{sim.base_url}/ens", headers=headers, timeout=10)


def _segment(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, 1001),
        ("Basic dXNlcjpwYXNz", 1001),
        ("Bearer", 1001),
        ("Bearer not-a-jwt", 1001),
        ("Bearer a.b", 1001),
        ("Bearer !!!.???.###", 1001),
    ],
)
def test_missing_or_malformed_token_is_1001(shared_sim, error_code, header, code) -> None:
    """No bearer token, or one that is not a JWT, gives 401 1001."""
    response = _get(shared_sim, header)
    assert response.status_code == 401
    assert error_code(response) == code


@pytest.mark.parametrize(
    ("claims", "drop", "code"),
    [
        ({}, ("iss",), 1002),
        ({"iss": ""}, (), 1002),
        ({"iss": "someone_else"}, (), 1003),
        ({}, ("exp",), 1004),
        ({}, ("iat",), 1005),
        ({}, ("nbf",), 1006),
        ({}, ("aud",), 1007),
        ({"aud": "face"}, (), 1011),
    ],
)
def test_claim_errors(shared_sim, make_token, error_code, claims, drop, code) -> None:
    """Missing or wrong claims map to their own code."""
    response = _get(shared_sim, f"Bearer {make_token(drop=drop, **claims)}")
    assert (response.status_code, error_code(response)) == (401, code)


def test_expired_token_is_1008(shared_sim, make_token, error_code) -> None:
    """A token that expired beyond the leeway is refused."""
    now = int(time.time())
    token = make_token(iat=now - 100, nbf=now - 100, exp=now - 30)
    assert error_code(_get(shared_sim, f"Bearer {token}")) == 1008


def test_future_token_is_1009(shared_sim, make_token, error_code) -> None:
    """A token whose nbf lies beyond the leeway is not yet valid."""
    now = int(time.time())
    token = make_token(iat=now, nbf=now + 60, exp=now + 120)
    assert error_code(_get(shared_sim, f"Bearer {token}")) == 1009


def test_lifetime_over_300_seconds_is_1010(shared_sim, make_token, error_code) -> None:
    """exp - iat may not exceed 300 s; exactly 300 is fine."""
    assert error_code(_get(shared_sim, f"Bearer {make_token(lifetime=301)}")) == 1010
    assert _get(shared_sim, f"Bearer {make_token(lifetime=300)}").status_code == 200


def test_bad_signature_and_algorithms_are_1012(shared_sim, make_token, error_code) -> None:
    """A wrong secret, another HMAC algorithm or alg=none all give 1012."""
    wrong_secret = make_token("another-secret-0123456789-abcdefghijkl")
    hs512 = make_token(SECRET * 2, algorithm="HS512")
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "efact", "iat": now, "nbf": now, "exp": now + 60}
    unsigned = f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(claims)}."
    for token in (wrong_secret, hs512, unsigned):
        response = _get(shared_sim, f"Bearer {token}")
        assert (response.status_code, error_code(response)) == (401, 1012)


def test_tampered_claims_fail_the_signature(shared_sim, make_token, error_code) -> None:
    """Claims are trusted only after the signature: editing them breaks it."""
    header, _, signature = make_token().split(".")
    now = int(time.time())
    forged = _segment({"iss": ISSUER, "aud": "efact", "iat": now, "nbf": now, "exp": now + 900})
    assert error_code(_get(shared_sim, f"Bearer {header}.{forged}.{signature}")) == 1012


def test_valid_token_and_date_header(shared_sim, make_token) -> None:
    """A good token passes; every answer carries a Date header."""
    response = _get(shared_sim, f"Bearer {make_token()}")
    assert response.status_code == 200
    assert "date" in response.headers
    assert "date" in _get(shared_sim, None).headers


def test_leeway_and_clock_offset(shared_sim, make_token, error_code) -> None:
    """A hub clock 60 s ahead expires a short token; the 5 s leeway absorbs small skew."""
    hub = shared_sim.hub
    try:
        hub.clock_offset_seconds = 60
        assert error_code(_get(shared_sim, f"Bearer {make_token(lifetime=30)}")) == 1008
        hub.clock_offset_seconds = -60
        assert error_code(_get(shared_sim, f"Bearer {make_token()}")) == 1009
        hub.clock_offset_seconds = 3
        now = int(time.time())
        token = make_token(iat=now - 10, nbf=now - 10, exp=now)
        assert _get(shared_sim, f"Bearer {token}").status_code == 200
    finally:
        hub.clock_offset_seconds = 0


def test_secret_never_in_repr_or_log(shared_sim, make_token) -> None:
    """Neither the secret nor the token shows in reprs or the request log."""
    token = make_token()
    _get(shared_sim, f"Bearer {token}")
    hub = shared_sim.hub
    text = " ".join([repr(shared_sim), repr(hub), repr(shared_sim.config), repr(hub.issuers),
                     json.dumps([r.to_dict() for r in hub.log.records()])])
    assert SECRET not in text
    assert token not in text
    decoded = jwt.decode(token, SECRET, algorithms=["HS256"], audience="efact")
    assert decoded["iss"] == ISSUER
