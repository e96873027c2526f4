"""Upper platforms (上级平台, the Nantong city platform and the like): what each sees of ours and how it is told.

Each platform sees the cameras of the organisation units it names (or every camera); violations (and later case
changes) are forwarded to it over HTTP, signed, through a durable outbox.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator, model_validator

from core.config.gb_ids import GbId, PlatformGbId

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
Seconds = Annotated[float, Field(gt=0, le=86400)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _http_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("give an http:// or https:// URL with a host")
    return url


class EventForwardingConfig(_Frozen):
    """Violations (start, end, clip cut) POSTed as JSON to the platform's endpoint, signed.

    `signer` standard-webhooks (the default) signs the Standard Webhooks way: `webhook-id`, `webhook-timestamp`,
    `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>` with `secret` (`whsec_` and base64, as the
    platform issues it). Chinese platforms often sign `appKey + timestamp` instead: `appkey-hmac-sha256` and
    `appkey-sha1` (see uplink/signing.py).
    """

    url: str
    secret: SecretStr = Field(description="the signing secret")
    signer: Literal["standard-webhooks", "appkey-hmac-sha256", "appkey-sha1"] = "standard-webhooks"
    app_key: str | None = Field(default=None, validate_default=True, description="the appKey of the appkey-* signers")
    timeout_s: Annotated[float, Field(gt=0, le=120)] = 10.0
    # Where the platform can reach this service, for the clip's (and a snapshot's) signed URL; unset: no URLs.
    public_url: str | None = None
    snapshot: Literal["inline", "url", "none"] = Field(
        default="inline", description="the snapshot as base64 in the body, as a signed URL, or not at all"
    )
    url_valid_hours: Annotated[float, Field(gt=0, le=24 * 366)] = 24.0 * 30
    # Between attempts at one message, in turn; the last repeats until the platform takes it.
    backoff_s: list[Seconds] = Field(default=[1, 2, 5, 10, 30, 60, 300], min_length=1)

    @field_validator("url")
    @classmethod
    def _endpoint(cls, url: str) -> str:
        return _http_url(url)

    @field_validator("public_url")
    @classmethod
    def _public(cls, url: str | None) -> str | None:
        return None if url is None else _http_url(url).rstrip("/")

    @field_validator("app_key")
    @classmethod
    def _app_key_for_its_signers(cls, key: str | None, info: ValidationInfo) -> str | None:
        signer = str(info.data.get("signer", ""))
        if signer.startswith("appkey-") and not (key and key.strip()):
            raise ValueError(f"the {signer} signer needs the platform's app_key")
        return key


class StreamPushConfig(_Frozen):
    """A camera's packets pushed, as they are, to the platform's media server: RTSP (ANNOUNCE/RECORD) or RTMP.

    Credentials typed into the URL's user-info are lifted into `username`/`password`; an RTMP stream key goes in
    `stream_key` (appended to the URL's path), so that neither is shown or logged.
    """

    camera: Identifier
    url: str
    username: str | None = None
    password: SecretStr | None = None
    stream_key: SecretStr | None = None
    mode: Literal["always", "on_demand"] = Field(
        default="always", description="always: whenever the camera streams; on_demand: started and stopped by API"
    )
    backoff_s: list[Seconds] = Field(default=[1, 2, 5, 10, 30], min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _lift_userinfo(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("url"), str):
            return data
        scheme, sep, rest = data["url"].partition("://")
        userinfo, at, hostpath = rest.rpartition("@")
        if not sep or not at or "/" in userinfo:
            return data
        user, _, password = userinfo.partition(":")
        data = {**data, "url": f"{scheme}://{hostpath}"}
        data.setdefault("username", unquote(user) or None)
        if password:
            data.setdefault("password", unquote(password))
        return data

    @field_validator("url")
    @classmethod
    def _media_server(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("rtsp", "rtsps", "rtmp", "rtmps") or not parts.hostname:
            raise ValueError("give an rtsp://, rtsps://, rtmp:// or rtmps:// URL with a host")
        return url

    @property
    def protocol(self) -> Literal["rtsp", "rtmp"]:
        return "rtmp" if urlsplit(self.url).scheme.startswith("rtmp") else "rtsp"


Port = Annotated[int, Field(ge=0, le=65535)]
Host = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.:-]{0,252}$", description="an IP address or host name")]


class Gb28181Config(_Frozen):
    """A GB/T 28181 cascade: we are the lower platform, registering with the upper one over SIP and serving its
    catalog, record and status queries and its requests for live and recorded video (PS over RTP)."""

    server_id: GbId = Field(description="the upper platform's SIP server id (20 digits)")
    domain: Annotated[str, Field(pattern=r"^[0-9A-Za-z.-]{1,64}$")] | None = Field(
        default=None, validate_default=True, description="its SIP domain (realm); default: the server id's first 10"
    )
    host: Host
    port: Port = 5060
    transport: Literal["udp", "tcp"] = "udp"
    local_id: PlatformGbId = Field(description="our platform's id, as the upper platform registered it (type 200)")
    password: SecretStr
    local_host: Host = Field(default="127.0.0.1", description="the address we listen on and announce")
    local_port: Port = Field(default=5060, description="our SIP port; 0: any free one")
    media_host: Host | None = Field(default=None, description="the address in our SDP answers; default local_host")
    expires_s: Annotated[int, Field(ge=10, le=86400 * 7)] = 3600
    keepalive_s: Annotated[float, Field(ge=1, le=3600)] = 60.0
    keepalive_misses: Annotated[int, Field(ge=1, le=100)] = 3
    charset: Literal["GB2312", "UTF-8"] = "GB2312"
    # Between attempts to register after a refusal (a wrong password) or no answer; the last repeats.
    register_backoff_s: list[Seconds] = Field(default=[5, 10, 30, 60, 300], min_length=1)
    catalog_page_size: Annotated[int, Field(ge=1, le=100)] = 10
    record_page_size: Annotated[int, Field(ge=1, le=100)] = 10
    ack_timeout_s: Annotated[float, Field(gt=0, le=120)] = 32.0  # 64 × T1: an answered INVITE never ACKed ends

    @field_validator("domain")
    @classmethod
    def _realm(cls, domain: str | None, info: ValidationInfo) -> str | None:
        server_id = info.data.get("server_id")
        return domain if domain is not None else (server_id[:10] if isinstance(server_id, str) else None)

    @property
    def realm(self) -> str:
        return self.domain or self.server_id[:10]

    @property
    def announced_media_host(self) -> str:
        return self.media_host or self.local_host


class PlatformConfig(_Frozen):
    """One upper platform."""

    id: Identifier
    name: Annotated[str, Field(min_length=1, max_length=100)]
    units: list[Identifier] = Field(default=[], description="organisation units whose cameras it sees; empty: all")
    cameras: list[Identifier] = Field(default=[], description="cameras it sees besides those of its units")
    events: EventForwardingConfig | None = None
    push: list[StreamPushConfig] = []
    gb28181: Gb28181Config | None = None


class UplinkConfig(_Frozen):
    platforms: list[PlatformConfig] = []
