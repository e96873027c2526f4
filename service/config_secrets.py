"""The secrets a configuration holds, for the log filter of every process that logs about it."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import unquote

from pydantic import SecretStr

from core.config import Config


def config_secrets(config: Config) -> Iterator[str]:
    """Each camera, platform and notifier secret, as written and URL-decoded."""
    found: list[SecretStr | None] = []
    for cam in config.cameras:
        for source in (cam.source, cam.detect_source):
            if source is not None:
                found += [source.password, *source.query_secrets.values()]
    for platform in config.uplink.platforms:
        found += [platform.events.secret if platform.events else None]
        found += [secret for push in platform.push for secret in (push.password, push.stream_key)]
        found += [platform.gb28181.password if platform.gb28181 else None]
    for notifier in config.notifications.notifiers:
        found += notifier.secrets()
    for secret in found:
        if secret is not None:
            yield from {secret.get_secret_value(), unquote(secret.get_secret_value())}
