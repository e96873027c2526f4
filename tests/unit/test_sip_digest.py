"""uplink/gb28181/sip/digest.py: the answer to a digest challenge, against RFC 2617's own example and the
RFC 2069 form that platforms without qop expect."""

from __future__ import annotations

import hashlib
import re

import pytest

from uplink.gb28181.sip.digest import Challenge, DigestError, authorization, digest_response, parse_challenge


def test_rfc_2617_example() -> None:
    challenge = parse_challenge(
        'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
        'opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    assert challenge.qop == ("auth", "auth-int") and challenge.opaque == "5ccc069c403ebaf9f0171e9517f40e41"
    response, cnonce = digest_response(challenge, "GET", "/dir/index.html", "Mufasa", "Circle Of Life", 1, "0a4f113b")
    assert response == "6629fae49393a05397450978507c4ef1" and cnonce == "0a4f113b"


def test_without_qop_the_rfc_2069_form() -> None:
    challenge = parse_challenge('Digest realm="3402000000",nonce="9bd055",algorithm=MD5')
    header = authorization(challenge, "REGISTER", "sip:34020000002000000001@3402000000", "34020000001180000001", "pw")
    params = dict(re.findall(r'(\w+)="?([^",]+)"?', header))
    md5 = lambda text: hashlib.md5(text.encode()).hexdigest()  # noqa: E731
    ha1 = md5("34020000001180000001:3402000000:pw")
    ha2 = md5("REGISTER:sip:34020000002000000001@3402000000")
    assert params["response"] == md5(f"{ha1}:9bd055:{ha2}") and "qop" not in params and "cnonce" not in params


def test_sha_256() -> None:
    challenge = Challenge("r", "n", "SHA-256")
    response, _ = digest_response(challenge, "REGISTER", "sip:x", "u", "p")
    sha = lambda text: hashlib.sha256(text.encode()).hexdigest()  # noqa: E731
    assert response == sha(f"{sha('u:r:p')}:n:{sha('REGISTER:sip:x')}")


@pytest.mark.parametrize(
    ("header", "why"),
    [
        ('Basic realm="x"', "Basic authentication"),
        ('Digest realm="x"', "no nonce"),
        ('Digest realm="x", nonce="n", algorithm=SHA-512-256', "not supported"),
        ('Digest realm="x", nonce="n", qop="auth-int"', "qop auth-int"),
    ],
)
def test_challenges_we_cannot_answer(header: str, why: str) -> None:
    with pytest.raises(DigestError, match=why):
        parse_challenge(header)
