"""What a camera's analysis reports about itself: running, behind, broken."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class PipelineStatus:
    camera_id: str
    # waiting (no picture yet) | running | no_video (the stream it analyses sends nothing) | error | stopped
    state: str
    key_frames_only: bool
    detectors: list[str]
    frames_analysed: int
    frames_skipped: int  # decoded too late: the analysis fell behind and skipped them
    key_frames_passed_over: int  # left undecoded, within the camera's analysis_interval_s of the last one analysed
    analysis_interval_s: float
    packets_dropped: int  # dropped by the hub because the analysis did not keep up
    behind: bool  # skipped or dropped within the last minute
    last_analysis_ms: float
    mean_analysis_ms: float
    error: str | None
    active: list[str] = field(default_factory=list)  # violation kinds running now
    source: str = "main"  # the stream it analyses: main, or detect (the camera's sub-stream)
    width: int | None = None  # the picture it analyses
    height: int | None = None
