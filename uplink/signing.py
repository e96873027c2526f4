"""How a forwarded message proves it comes from this service: the Standard Webhooks scheme, or the `appKey +
timestamp` signatures Chinese platforms often ask for. Each signer gives the headers to send with a body."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Protocol

from standardwebhooks.webhooks import Webhook

from core.config.uplink import EventForwardingConfig


class Signer(Protocol):
    def headers(self, message_id: str, timestamp: int, body: bytes) -> dict[str, str]: ...


class StandardWebhooks:
    """`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`,
    by the `standardwebhooks` package (the platform verifies with the same)."""

    def __init__(self, secret: str) -> None:
        self._webhook = Webhook(secret)

    def headers(self, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
        when = datetime.fromtimestamp(timestamp, UTC)
        return {
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": self._webhook.sign(message_id, when, body.decode()),
        }


class AppKeyHmacSha256:
    """`X-App-Key`, `X-Timestamp`, `X-Sign`: hex HMAC-SHA256 with the secret of appKey + timestamp + body."""

    def __init__(self, app_key: str, secret: str) -> None:
        self._app_key, self._secret = app_key, secret.encode()

    def headers(self, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
        signed = self._app_key.encode() + str(timestamp).encode() + body
        return {
            "webhook-id": message_id,
            "X-App-Key": self._app_key,
            "X-Timestamp": str(timestamp),
            "X-Sign": hmac.new(self._secret, signed, hashlib.sha256).hexdigest(),
        }


class AppKeySha1:
    """`X-App-Key`, `X-Timestamp`, `X-Sign`: hex SHA-1 of appKey + timestamp + secret (the body is not signed:
    the weakest scheme, for platforms that ask for nothing else)."""

    def __init__(self, app_key: str, secret: str) -> None:
        self._app_key, self._secret = app_key, secret

    def headers(self, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
        sign = hashlib.sha1(f"{self._app_key}{timestamp}{self._secret}".encode()).hexdigest()
        return {"webhook-id": message_id, "X-App-Key": self._app_key, "X-Timestamp": str(timestamp), "X-Sign": sign}


def signer_for(config: EventForwardingConfig) -> Signer:
    secret = config.secret.get_secret_value()
    if config.signer == "standard-webhooks":
        return StandardWebhooks(secret)
    assert config.app_key is not None  # checked with the configuration
    if config.signer == "appkey-hmac-sha256":
        return AppKeyHmacSha256(config.app_key, secret)
    return AppKeySha1(config.app_key, secret)
