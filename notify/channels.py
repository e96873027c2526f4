"""From a notifier's configuration to its requests: who it sends to, and the request for each."""

from __future__ import annotations

from core.config.notifications import DingTalkNotifier, Notifier, SmsNotifier, WebhookNotifier, WeComNotifier
from notify import dingtalk, sms, webhook, wecom
from notify.notice import Notice
from notify.outgoing import Outgoing


def recipients(config: Notifier) -> list[str]:
    """One delivery per recipient: each phone of an SMS gateway, one for every other notifier ('')."""
    return list(config.phones) if isinstance(config, SmsNotifier) else [""]


def build(config: Notifier, notice: Notice, recipient: str, now: float) -> Outgoing:
    if isinstance(config, WebhookNotifier):
        return webhook.build(config, notice, now)
    if isinstance(config, WeComNotifier):
        return wecom.build(config, notice)
    if isinstance(config, DingTalkNotifier):
        return dingtalk.build(config, notice, now)
    return sms.build(config, notice, recipient)


def secrets(config: Notifier) -> list[str]:
    return [secret.get_secret_value() for secret in config.secrets()]
