"""uplink/signing.py and core/signed_urls.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from standardwebhooks.webhooks import Webhook

from core.signed_urls import UrlSigner
from uplink.signing import AppKeyHmacSha256, AppKeySha1, StandardWebhooks

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def test_standard_webhooks_signatures_verify_with_the_reference_package() -> None:
    now = int(time.time())
    headers = StandardWebhooks(SECRET).headers("msg_x_1", now, b'{"type":"violation.started"}')
    assert headers["webhook-id"] == "msg_x_1" and headers["webhook-timestamp"] == str(now)
    assert Webhook(SECRET).verify('{"type":"violation.started"}', headers) == {"type": "violation.started"}


def test_appkey_signatures() -> None:
    body = b'{"a":1}'
    headers = AppKeyHmacSha256("key-1", "s3cret").headers("msg_x_2", 1700000000, body)
    expected = hmac.new(b"s3cret", b"key-1" + b"1700000000" + body, hashlib.sha256).hexdigest()
    assert headers["X-Sign"] == expected and headers["X-App-Key"] == "key-1"
    sha1 = AppKeySha1("key-1", "s3cret").headers("msg_x_3", 1700000000, body)["X-Sign"]
    assert sha1 == hashlib.sha1(b"key-11700000000s3cret").hexdigest()


def test_signed_links_are_bound_to_path_holder_and_time() -> None:
    signer = UrlSigner(b"k" * 32)
    link = signer.sign("/api/shared/violations/7/clip.mp4", "nantong", 60, now=1000.0)
    path, query = link.split("?")
    fields = dict(part.split("=") for part in query.split("&"))
    assert signer.verify(path, "nantong", int(fields["expires"]), fields["sig"], now=1030.0)
    assert not signer.verify(path, "nantong", int(fields["expires"]), fields["sig"], now=1061.0)  # expired
    assert not signer.verify(path, "other", int(fields["expires"]), fields["sig"], now=1030.0)
    assert not signer.verify(
        "/api/shared/violations/8/clip.mp4", "nantong", int(fields["expires"]), fields["sig"], now=1030.0
    )
    assert not signer.verify(path, "nantong", int(fields["expires"]), "签名\x00", now=1030.0)  # a forged one
    assert UrlSigner(b"k" * 32).identity() == signer.identity() != UrlSigner(b"j" * 32).identity()
