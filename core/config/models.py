"""Typed, immutable configuration: what one YAML file says, validated once at start-up."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ByteSize, ConfigDict, Field, SecretStr, ValidationInfo, field_validator, model_validator

from core.config.cases import CasesConfig
from core.config.gb_ids import CameraGbId, UnitGbId
from core.config.geometry import polygon_area, self_intersection
from core.config.notifications import NotificationsConfig
from core.config.public_reports import PublicReportsConfig
from core.config.uplink import UplinkConfig

Role = Literal["gate", "duty_room", "evacuation_route", "kitchen", "other"]
ROLES: tuple[Role, ...] = ("gate", "duty_room", "evacuation_route", "kitchen", "other")

Identifier = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="ASCII letters, digits, '_', '.', '-'; used in URLs, file paths and metric labels",
    ),
]
DisplayName = Annotated[str, Field(min_length=1, max_length=100)]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- organisation ---------------------------------------------------------------------------


class InstitutionConfig(_Frozen):
    """A supervised civil-affairs service institution (民政服务机构)."""

    id: Identifier
    name: DisplayName
    kind: Literal["elderly_care", "child_welfare", "rescue", "other"] = "elderly_care"
    address: str | None = None
    gb_id: UnitGbId | None = Field(default=None, description="its GB/T 28181 id (type 215 or 216) for upper platforms")
    # The installation rate (安装率) asks for a kitchen camera only where the institution cooks: one without a
    # canteen (day care, meals delivered) says `canteen: false` and is not counted short of one.
    canteen: bool = Field(default=True, strict=True, description="has a canteen (食堂), so its kitchen needs a camera")


class TownConfig(_Frozen):
    """A town, park or sub-district office (镇、园区、街道) between the bureau and its institutions."""

    id: Identifier
    name: DisplayName
    kind: Literal["town", "park", "subdistrict"] = "town"
    gb_id: UnitGbId | None = Field(default=None, description="its GB/T 28181 id (type 215 or 216) for upper platforms")
    institutions: list[InstitutionConfig] = []


class OrganisationConfig(_Frozen):
    """The supervising bureau (民政局) at the root of the tree."""

    id: Identifier = "bureau"
    name: DisplayName = "民政局"
    gb_id: UnitGbId | None = Field(default=None, description="its GB/T 28181 id (type 215 or 216) for upper platforms")
    towns: list[TownConfig] = []


# --- cameras ----------------------------------------------------------------------------------


class ZoneConfig(_Frozen):
    """A polygon in normalised image coordinates: (0, 0) is top left, (1, 1) bottom right."""

    name: DisplayName
    points: list[tuple[Unit, Unit]] = Field(min_length=3)
    drawn_on: Annotated[str, Field(pattern=r"^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$")] | None = Field(
        default=None, description="WIDTHxHEIGHT of the picture the zone was drawn on; checked against the stream"
    )

    @field_validator("points")
    @classmethod
    def _simple_polygon(cls, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        crossing = self_intersection(points)
        if crossing is not None:
            i, j = crossing
            raise ValueError(f"polygon edges {i} and {j} cross; draw the zone without self-intersection")
        if polygon_area(points) < 1e-4:
            raise ValueError("polygon has (almost) no area")
        return points


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ClockTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$", description="HH:MM")]


class ArmingWindowConfig(_Frozen):
    """A time window in which a detector raises violations; `end` before `start` runs past midnight."""

    days: list[Weekday] = Field(default=["mon", "tue", "wed", "thu", "fri", "sat", "sun"], min_length=1)
    start: ClockTime = "00:00"
    end: ClockTime = "24:00"


class DetectorSettings(_Frozen):
    """What every detector entry of a camera has.

    Each detector declares its own settings model beside its code (`detectors/plugins/`): this base with
    `type: Literal[...]` and its typed `params`. A configuration file is read with the union of those models
    (`service.configuration`), so a loaded camera's entries are the detectors' own settings objects.
    """

    type: str
    enabled: bool = True
    zones: list[ZoneConfig] = []
    schedule: list[ArmingWindowConfig] = Field(default=[], description="arming windows; empty: always armed")

    @field_validator("zones")
    @classmethod
    def _unique_zone_names(cls, zones: list[ZoneConfig]) -> list[ZoneConfig]:
        names = [z.name for z in zones]
        if len(set(names)) != len(names):
            raise ValueError("zone names must be unique within a detector")
        return zones


# Query parameters through which some cameras take their credentials (`...?user=u&password=p`).
SECRET_QUERY_KEYS = frozenset({"password", "passwd", "pwd", "pass", "pw", "secret", "token", "key", "auth"})
MASK = "***"


class SourceConfig(_Frozen):
    """Where a camera's video comes from: an RTSP URL, or a local file for demos and tests.

    The URL never carries a secret: credentials typed into it are lifted out at configuration time, those of
    the user-info into `username` and `password`, those of query parameters such as `password=` into
    `query_secrets` (the URL keeps the parameter, its value masked), so it can be shown and logged.
    """

    url: str
    username: str | None = None
    password: SecretStr | None = None
    query_secrets: dict[str, SecretStr] = Field(default={}, description="secret query parameters, by name")
    transport: Literal["tcp", "udp"] | None = None
    loop: bool = True

    @model_validator(mode="before")
    @classmethod
    def _lift_credentials(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("url"), str):
            return data
        scheme, sep, rest = data["url"].partition("://")
        if scheme.lower() not in ("rtsp", "rtsps") or not sep:
            return data
        data = dict(data)
        # Split on the last '@' rather than with urlsplit: camera passwords often hold unescaped '/', '#' or
        # '?', which urlsplit would take for the path.
        userinfo, at, hostpath = rest.rpartition("@")
        if at and (":" in userinfo or "/" not in userinfo):  # else an '@' in the path, not credentials
            user, _, password = userinfo.partition(":")
            data.setdefault("username", unquote(user) or None)
            if password:
                data.setdefault("password", unquote(password))
            rest = hostpath
        path, question, query = rest.partition("?")
        if question:
            parameters = []
            for parameter in query.split("&"):
                name, equals, value = parameter.partition("=")
                if equals and value and value != MASK and unquote(name).lower() in SECRET_QUERY_KEYS:
                    data.setdefault("query_secrets", {})
                    data["query_secrets"] = {**data["query_secrets"], name: value}  # as written: sent as written
                    parameter = f"{name}={MASK}"
                parameters.append(parameter)
            rest = f"{path}?{'&'.join(parameters)}"
        data["url"] = f"{scheme}://{rest}"
        return data

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        scheme = urlsplit(url).scheme
        if scheme in ("rtsp", "rtsps"):
            if not urlsplit(url).hostname:
                raise ValueError("RTSP URL has no host")
            return url
        if scheme in ("", "file"):
            return url
        raise ValueError(f"unsupported scheme {scheme!r}: use rtsp://, rtsps://, file:// or a file path")

    @property
    def is_file(self) -> bool:
        return urlsplit(self.url).scheme in ("", "file")

    @property
    def file_path(self) -> Path:
        return Path(urlsplit(self.url).path if self.url.startswith("file:") else self.url)


class CameraConfig(_Frozen):
    """One camera of one institution."""

    id: Identifier
    name: DisplayName
    institution: Identifier
    role: Role
    source: SourceConfig
    enabled: bool = True
    retention_hours: Annotated[float, Field(gt=0, le=24 * 366)] | None = None
    record: bool = True
    detectors: Sequence[DetectorSettings] = ()
    gb_id: CameraGbId | None = Field(
        default=None, description="its GB/T 28181 id (type 131 or 132) for upper platforms"
    )
    blur_faces: bool = Field(default=False, description="faces under a mosaic in its violations' snapshots")
    # Cameras send a second, low-resolution stream of the same scene (子码流); decoding it costs a fraction
    # of the main stream's, so detection reads it where one is named. Recording, live view, snapshots and
    # pushes keep `source`.
    detect_source: SourceConfig | None = Field(
        default=None, description="the camera's sub-stream, analysed by its detectors instead of `source`"
    )
    # Static-scene detectors (route, camera health) judge over tens of seconds, so a key frame every few seconds
    # tells them as much as every one; the decode is most of their cost, and a camera with a 1 s GOP would pay
    # twice what one with a 2 s GOP pays for nothing. Detectors that ask for a frame rate are not thinned.
    analysis_interval_s: Annotated[float, Field(ge=0, le=60)] = Field(
        default=0.0,
        description="static-scene detectors look at one key frame per this long at most; 0: every key frame",
    )

    @field_validator("detect_source")
    @classmethod
    def _detect_source_is_another_stream(cls, detect: SourceConfig | None, info: ValidationInfo) -> SourceConfig | None:
        source = info.data.get("source")
        if detect is not None and isinstance(source, SourceConfig) and detect.url == source.url:
            raise ValueError("names the same stream as `source`; leave it out to analyse the main stream")
        return detect


# --- service ----------------------------------------------------------------------------------


class IngestConfig(_Frozen):
    """How camera connections are kept alive."""

    transport: Literal["tcp", "udp"] = "tcp"
    open_timeout_s: Annotated[float, Field(ge=1, le=120)] = 10.0
    watchdog_s: Annotated[float, Field(ge=1, le=300)] = 10.0
    stall_after_s: Annotated[float, Field(gt=0, le=300)] = 3.0
    backoff_s: list[Annotated[float, Field(gt=0, le=3600)]] = Field(default=[1, 2, 5, 10, 30], min_length=1)
    queue_packets: Annotated[int, Field(ge=10, le=100_000)] = 500
    gop_cache_bytes: Annotated[int, Field(ge=0, le=256 * 1024 * 1024)] = 8 * 1024 * 1024
    # While nobody watches a camera live, its connection is read in bursts up to this far apart instead of a
    # wake-up per frame (a fifth less CPU for recording, docs/performance.md); 0 reads every frame as it comes.
    # TCP only: the socket buffers hold a burst (about 125 kB at 4 Mbit/s). Live viewers get every packet at once.
    read_pause_s: Annotated[float, Field(ge=0, le=1)] = 0.25

    @model_validator(mode="after")
    def _stall_before_watchdog(self) -> IngestConfig:
        if self.stall_after_s > self.watchdog_s:
            raise ValueError("stall_after_s must not exceed watchdog_s")
        if self.read_pause_s > self.stall_after_s / 2:
            raise ValueError("read_pause_s must not exceed half of stall_after_s")
        return self


class WorkersConfig(_Frozen):
    """The worker processes that run the cameras' pipelines (source, recorder, detectors, pushes).

    `processes`: how many; "auto" is one per core. 0 runs every camera inside the service process itself, as a
    single-process install or a debugger wants; a camera's crash then takes the service with it.
    """

    processes: Literal["auto"] | Annotated[int, Field(ge=0, le=256)] = "auto"
    # A dead worker is started again after these waits (the last repeats); the wait resets once a worker
    # stayed up `stable_s`, so a worker that dies at every start is not restarted in a loop.
    restart_backoff_s: list[Annotated[float, Field(ge=0, le=3600)]] = Field(default=[0, 1, 2, 5, 10, 30], min_length=1)
    stable_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    # A process started ahead, its imports done, takes over a dead worker's cameras at once: a restart costs the
    # cameras' reconnection, not an interpreter's start (about a second here), for one idle process's memory.
    spare: bool = True


class RetentionConfig(_Frozen):
    """How long video is kept unless a camera says otherwise, and how much disk it may take."""

    default_hours: Annotated[float, Field(gt=0, le=24 * 366)] = 24.0
    by_role: dict[Role, Annotated[float, Field(gt=0, le=24 * 366)]] = {"kitchen": 24.0 * 7}
    # The recordings volume's cap ("2 TB", "500GiB"); the oldest video goes first when it is exceeded.
    max_size: ByteSize | None = None
    # Emergency rule: below this much free disk the oldest video goes, whatever its age.
    min_free: ByteSize = ByteSize(1024**3)
    # Video a violation references is kept until the case is closed, and this long after.
    keep_after_close_hours: Annotated[float, Field(ge=0, le=24 * 366 * 5)] = 24.0 * 30
    cleanup_interval_s: Annotated[float, Field(ge=1, le=3600)] = 30.0


class RecordingConfig(_Frozen):
    """Continuous recording: camera packets copied into fragmented-MP4 segments."""

    enabled: bool = True
    directory: Path | None = None  # default: <data_dir>/recordings
    segment_s: Annotated[float, Field(ge=2, le=3600)] = 60.0  # cut on the first key frame after this long
    # A fragment is flushed to disk at least this often: what a kill -9 can lose, at most.
    fragment_s: Annotated[float, Field(ge=0.2, le=10)] = 1.0
    export_keep_hours: Annotated[float, Field(gt=0, le=24 * 366)] = 72.0


class LogInConfig(_Frozen):
    """The lock-out of an account after wrong passwords, and the limit on failed log-ins per client address
    (behind a reverse proxy every client has the proxy's address: raise `address_failures` there)."""

    lock_after: Annotated[int, Field(ge=1, le=1000)] = 5  # wrong passwords for one account ...
    within_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = 15  # ... within this long lock it ...
    lock_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = 15  # ... for this long
    address_failures: Annotated[int, Field(ge=1, le=100_000)] = 20  # failures from one address ...
    address_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = 5  # ... within this long refuse it


class ServerConfig(_Frozen):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8080
    session_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 12.0
    # Behind an HTTPS reverse proxy the service itself sees plain HTTP: this marks the session cookie Secure,
    # so a browser never sends it over plain HTTP. (A request that arrives over HTTPS gets it anyway.)
    secure_cookies: bool = False
    login: LogInConfig = LogInConfig()


class StorageConfig(_Frozen):
    data_dir: Path = Path("data")
    database: Path | None = None

    @field_validator("data_dir", "database")
    @classmethod
    def _usable_path(cls, path: Path | None) -> Path | None:
        if path is not None and "\x00" in str(path):
            raise ValueError("a path cannot contain a NUL character")
        return path

    @property
    def database_path(self) -> Path:
        return self.database if self.database is not None else self.data_dir / "vms.db"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"


class LiveConfig(_Frozen):
    """Remote live view (WebRTC through WHEP, a WebSocket fMP4 fallback, Motion JPEG) and snapshots."""

    # Addresses offered as ICE host candidates; empty means every interface but loopback (aioice's
    # default). Deployments name their LAN address; tests use 127.0.0.1.
    ice_hosts: list[str] = []
    max_viewers_per_camera: Annotated[int, Field(ge=1, le=1000)] = 16
    max_viewers_per_user: Annotated[int, Field(ge=1, le=1000)] = 16
    # A viewer whose browser has sent no RTCP report for this long has vanished and is closed.
    idle_timeout_s: Annotated[float, Field(ge=1, le=300)] = 15.0
    # How long a peer may take to connect (ICE and DTLS) before it is given up.
    connect_timeout_s: Annotated[float, Field(ge=1, le=120)] = 20.0
    snapshot_cache_s: Annotated[float, Field(ge=0, le=60)] = 2.0
    # Motion JPEG, the live view of cameras whose codec browsers cannot play (H.265): it decodes, so it is
    # kept to a few pictures a second at a moderate width.
    mjpeg_fps: Annotated[float, Field(ge=0.5, le=25)] = 5.0
    mjpeg_max_width: Annotated[int, Field(ge=160, le=3840)] = 1280


class Config(_Frozen):
    """The whole service configuration."""

    server: ServerConfig = ServerConfig()
    storage: StorageConfig = StorageConfig()
    ingest: IngestConfig = IngestConfig()
    workers: WorkersConfig = WorkersConfig()
    retention: RetentionConfig = RetentionConfig()
    recording: RecordingConfig = RecordingConfig()
    organisation: OrganisationConfig = OrganisationConfig()
    live: LiveConfig = LiveConfig()
    uplink: UplinkConfig = UplinkConfig()
    cases: CasesConfig = CasesConfig()
    notifications: NotificationsConfig = NotificationsConfig()
    public_reports: PublicReportsConfig = PublicReportsConfig()
    cameras: Sequence[CameraConfig] = ()

    @property
    def recordings_dir(self) -> Path:
        return self.recording.directory or self.storage.data_dir / "recordings"

    def retention_hours(self, camera: CameraConfig) -> float:
        if camera.retention_hours is not None:
            return camera.retention_hours
        return self.retention.by_role.get(camera.role, self.retention.default_hours)
