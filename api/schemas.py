"""The API's own types: what it answers and takes. They are built from the service's internal objects
(`from_attributes`) but owned here, so an internal change never silently changes the API. Camera sources are
described without their credentials."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _View(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class OrgRef(BaseModel):
    id: str
    name: str


class SourceView(BaseModel):
    url: str = Field(description="the camera's URL, secrets left out or masked")
    transport: str
    has_credentials: bool


class HealthView(_View):
    """The camera's connection as measured now."""

    camera_id: str
    state: Literal["connecting", "online", "stalled", "offline", "stopped"]
    state_since: float
    fps: float
    bitrate_bps: float
    codec: str | None
    profile: str | None
    width: int | None
    height: int | None
    last_keyframe_at: float | None
    keyframe_interval_s: float | None
    last_packet_at: float | None
    last_packet_age_s: float | None
    connected_at: float | None
    reconnects: int
    packets_total: int
    bytes_total: int
    last_error: str | None
    last_error_at: float | None
    next_attempt_at: float | None


class ConsumerView(_View):
    """One consumer of the camera's stream (recorder, detectors, a viewer) and whether it keeps up."""

    name: str
    policy: str
    queued: int
    capacity: int
    delivered: int
    dropped: int
    detached: bool
    closed_reason: str | None


class RecorderView(_View):
    state: Literal["recording", "waiting", "failing", "stopped"]
    segment: str | None
    segment_started_at: float | None
    segments_written: int
    bytes_received: int
    bytes_written: int
    packets_dropped: int
    last_error: str | None
    last_error_at: float | None
    index_pending: int = 0  # changes to the recordings index not yet written by the camera's process
    index_error: str | None = None  # why, while the database refuses them (the video is on disk meanwhile)


class DetectionView(_View):
    """The camera's analysis: running, behind (skipping), broken."""

    camera_id: str
    state: Literal["waiting", "running", "no_video", "error", "stopped"] = Field(
        description="no_video: the stream it analyses sends nothing, so nothing is being detected"
    )
    source: Literal["main", "detect"] = Field(
        default="main", description="the stream it analyses: the main one, or the camera's sub-stream (detect_source)"
    )
    width: int | None = Field(default=None, description="the picture it analyses")
    height: int | None = None
    key_frames_only: bool
    detectors: list[str] = Field(description="the violation kinds its detectors report")
    frames_analysed: int
    frames_skipped: int = Field(description="decoded too late: the analysis fell behind and skipped them")
    key_frames_passed_over: int = Field(
        description="key frames left undecoded, within the camera's analysis_interval_s of the last one analysed"
    )
    analysis_interval_s: float
    packets_dropped: int
    behind: bool
    last_analysis_ms: float
    mean_analysis_ms: float
    error: str | None
    active: list[str] = Field(description="violations running now, as kind or kind:zone")
    dismissed_false_alarms: dict[str, int] = Field(
        default={}, description="its violation cases dismissed as false alarms, by kind"
    )


class ZoneView(_View):
    name: str
    points: list[tuple[float, float]]
    drawn_on: str | None


class ArmingWindowView(_View):
    days: list[str]
    start: str
    end: str


class DetectorView(BaseModel):
    """A detector entry of the camera's configuration."""

    type: str
    enabled: bool
    zones: list[ZoneView]
    schedule: list[ArmingWindowView]
    params: dict[str, Any] = Field(description="the detector's own parameters, defaults filled in")
    dismissed_false_alarms: int = Field(default=0, description="its violation cases dismissed as false alarms")


class CameraView(BaseModel):
    id: str
    name: str
    role: str
    enabled: bool
    institution: OrgRef
    town: OrgRef | None
    source: SourceView
    retention_hours: float
    detectors: list[DetectorView]
    health: HealthView | None
    consumers: list[ConsumerView] = []
    recording: RecorderView | None = None
    detection: DetectionView | None = None
    detect_source: SourceView | None = Field(default=None, description="the sub-stream its detectors analyse, if any")
    detect_health: HealthView | None = Field(
        default=None, description="the sub-stream's connection, with its own state, rate and reconnects"
    )
    detect_consumers: list[ConsumerView] = Field(default=[], description="the sub-stream's consumers (the detectors)")


class HealthEventView(BaseModel):
    at: float
    state: str
    detail: str | None


class CameraDetail(CameraView):
    history: list[HealthEventView]


class OrgNode(BaseModel):
    id: str
    name: str
    kind: str
    children: list[OrgNode] = []
    cameras: list[str] = []


class ViewerView(_View):
    """One open live view."""

    id: str
    camera_id: str
    username: str
    transport: Literal["webrtc", "fmp4", "mjpeg"]
    opened_at: float
    state: str
    packets_sent: int


class ViolationTypeView(BaseModel):
    """A kind of violation the detectors report, as the UI names it."""

    type: str
    severity: Literal["urgent", "major", "minor"]
    label: dict[str, str] = Field(description="by language: zh-CN, en")
