"""Notifications (通知): who is told of an urgent case, an overdue case or an urgent violation, and how.

Each notifier is one channel: a generic webhook (JSON, optionally HMAC-signed), a WeChat Work (企业微信) or
DingTalk (钉钉) group robot, or an SMS gateway called by a URL template. Each says which organisation units (their
subtrees), severities and events it receives. Tokens and keys are secrets: typed into a robot's URL they are lifted
out of it (`key=`, `access_token=`), so URLs can be shown and logged.
"""

from __future__ import annotations

import string
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
Seconds = Annotated[float, Field(gt=0, le=86400)]
Severity = Literal["urgent", "major", "minor"]
# urgent_case_opened / case_overdue: from cases; violation_started: a violation of a listed severity starting
# (until cases are wired everywhere, the way a fall reaches a phone at once).
Event = Literal["urgent_case_opened", "case_overdue", "violation_started"]
Phone = Annotated[str, Field(pattern=r"^\+?[0-9]{5,20}$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _http_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("give an http:// or https:// URL with a host")
    return url


def _lift_query_secret(data: Any, param: str, field: str) -> Any:
    """`param=...` in the URL's query moves into the secret `field`, so the URL no longer carries it."""
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        return data
    parts = urlsplit(data["url"])
    query = parse_qsl(parts.query, keep_blank_values=True)
    found = [value for name, value in query if name == param]
    if not found:
        return data
    kept = urlencode([(name, value) for name, value in query if name != param])
    data = {**data, "url": urlunsplit(parts._replace(query=kept))}
    data.setdefault(field, found[0])
    return data


class _Notifier(_Frozen):
    id: Identifier
    units: list[Identifier] = Field(
        default=[], description="organisation units whose notices it receives (with their subtrees); empty: all"
    )
    severities: list[Severity] = Field(default=["urgent"], min_length=1)
    events: list[Event] = Field(default=["urgent_case_opened", "case_overdue"], min_length=1)
    timeout_s: Annotated[float, Field(gt=0, le=60)] = 10.0
    # Between attempts, in turn (the last repeats); after `max_attempts` the delivery is given up, and shown so.
    backoff_s: list[Seconds] = Field(default=[2, 10, 30, 120, 600], min_length=1)
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 8

    def secrets(self) -> list[SecretStr]:
        return []


class WebhookNotifier(_Notifier):
    """The notice as JSON POSTed to `url`; with `secret`, signed: `X-VMS-Timestamp` (Unix seconds) and
    `X-VMS-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + body>`."""

    type: Literal["webhook"]
    url: str
    secret: SecretStr | None = None

    @field_validator("url")
    @classmethod
    def _endpoint(cls, url: str) -> str:
        return _http_url(url)

    def secrets(self) -> list[SecretStr]:
        return [self.secret] if self.secret else []


class WeComNotifier(_Notifier):
    """A WeChat Work group robot: `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…` (the key is lifted
    into `key`). `msgtype` markdown (the default) or text; text messages can @ members by mobile number."""

    type: Literal["wecom"]
    url: str = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
    key: SecretStr
    msgtype: Literal["markdown", "text"] = "markdown"
    mention_mobiles: list[Phone] = []

    @model_validator(mode="before")
    @classmethod
    def _lift_key(cls, data: Any) -> Any:
        return _lift_query_secret(data, "key", "key")

    @field_validator("url")
    @classmethod
    def _endpoint(cls, url: str) -> str:
        return _http_url(url)

    def secrets(self) -> list[SecretStr]:
        return [self.key]


class DingTalkNotifier(_Notifier):
    """A DingTalk group robot: `https://oapi.dingtalk.com/robot/send?access_token=…` (the token is lifted into
    `access_token`); with the robot's 加签 `secret`, each request carries `timestamp` and `sign` (base64 HMAC-SHA256
    of "<timestamp>\\n<secret>", URL-encoded) in the query."""

    type: Literal["dingtalk"]
    url: str = "https://oapi.dingtalk.com/robot/send"
    access_token: SecretStr
    secret: SecretStr | None = None
    msgtype: Literal["markdown", "text"] = "markdown"
    at_mobiles: list[Phone] = []

    @model_validator(mode="before")
    @classmethod
    def _lift_token(cls, data: Any) -> Any:
        return _lift_query_secret(data, "access_token", "access_token")

    @field_validator("url")
    @classmethod
    def _endpoint(cls, url: str) -> str:
        return _http_url(url)

    def secrets(self) -> list[SecretStr]:
        return [self.access_token] + ([self.secret] if self.secret else [])


class SmsNotifier(_Notifier):
    """An SMS gateway called once per phone: `url` is a template with `{phone}`, `{text}` and optionally `{key}`
    (the gateway's key, kept as a secret), each URL-encoded, e.g. `https://gw/send?phone={phone}&text={text}`.
    `method` POST sends the same query with an empty body."""

    type: Literal["sms"]
    url: str
    phones: list[Phone] = Field(min_length=1)
    key: SecretStr | None = None
    method: Literal["GET", "POST"] = "GET"
    max_chars: Annotated[int, Field(ge=20, le=1000)] = 300

    @field_validator("url")
    @classmethod
    def _template(cls, url: str) -> str:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(url) if name is not None}
        except ValueError as error:
            raise ValueError(f"not a URL template: {error}") from None
        unknown = names - {"phone", "text", "key"}
        if unknown:
            raise ValueError(f"unknown placeholder(s) {', '.join(sorted(unknown))}: use {{phone}}, {{text}}, {{key}}")
        if not {"phone", "text"} <= names:
            raise ValueError("the template needs {phone} and {text}")
        _http_url(url.format(phone="1", text="t", key="k"))
        return url

    @model_validator(mode="after")
    def _key_where_used(self) -> SmsNotifier:
        if "{key}" in self.url and self.key is None:
            raise ValueError("the URL template uses {key}: give the gateway's key")
        return self

    def secrets(self) -> list[SecretStr]:
        return [self.key] if self.key else []


Notifier = Annotated[WebhookNotifier | WeComNotifier | DingTalkNotifier | SmsNotifier, Field(discriminator="type")]


class NotificationsConfig(_Frozen):
    # Where people reach the web UI, for the link in each message; unset: messages carry no link.
    public_url: str | None = None
    notifiers: list[Notifier] = []

    @field_validator("public_url")
    @classmethod
    def _public(cls, url: str | None) -> str | None:
        return None if url is None else _http_url(url).rstrip("/")


def reference_problems(data: dict[str, Any], units: set[str]) -> list[tuple[str, str]]:
    """(path, message) for duplicate notifier ids and unknown units, found on the raw data by the loader."""
    section = data.get("notifications")
    notifiers = section.get("notifiers") if isinstance(section, dict) else None
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for n, notifier in enumerate(notifiers if isinstance(notifiers, list) else []):
        if not isinstance(notifier, dict):
            continue
        where = f"notifications.notifiers[{n}]"
        if isinstance(notifier.get("id"), str):
            if notifier["id"] in seen:
                problems.append((f"{where}.id", f"duplicate id {notifier['id']!r}"))
            seen.add(notifier["id"])
        refs = notifier.get("units")
        for r, ref in enumerate(refs if isinstance(refs, list) else []):
            if isinstance(ref, str) and ref not in units:
                problems.append((f"{where}.units[{r}]", f"unknown organisation unit {ref!r}"))
    return problems
