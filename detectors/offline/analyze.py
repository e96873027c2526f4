"""`vms analyze`: run a camera's detectors over a video file and report each violation.

The file is read as a camera would be analysed: only key frames are decoded when the detectors need no
more, each frame is scaled once, and the same violation rules apply, on the file's own clock.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import yaml
from pydantic import ValidationError

from core.config.models import CameraConfig, DetectorSettings, Role, SourceConfig, ZoneConfig
from detectors.frames.decoder import decode_key_frames_only
from detectors.frames.scaler import FrameScaler
from detectors.pipeline.analysis import CameraAnalysis
from detectors.registry import detector_settings, label
from detectors.violations.events import ViolationEvent


class NotVideo(ValueError):
    """The file cannot be read as video; the message says which file and why."""


@dataclass(frozen=True)
class FoundViolation:
    type: str
    label: str
    zone: str | None
    start_s: float
    end_s: float
    confidence: float
    bbox: list[int] | None  # x, y, width, height in pixels of the video

    def as_json(self) -> dict[str, object]:
        return {
            "type": self.type,
            "label": self.label,
            "zone": self.zone,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "confidence": self.confidence,
            "bbox": self.bbox,
        }


def video_size(path: Path) -> tuple[int, int]:
    """Width and height of the file's first video stream; NotVideo when there is none."""
    with _open(path) as container:
        stream = container.streams.video[0]
        return stream.codec_context.width, stream.codec_context.height


def _open(path: Path) -> av.container.InputContainer:
    if not path.is_file():
        raise NotVideo(f"{path}: no such file")
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as error:
        raise NotVideo(f"{path}: not a video file ({error.strerror or error})") from None
    if not container.streams.video or not container.streams.video[0].codec_context.width:
        container.close()
        raise NotVideo(f"{path}: not a video file (it holds no video stream)")
    return container


def parse_zone(text: str, name: str, width: int, height: int) -> ZoneConfig:
    """A zone from `"x,y x,y ..."`: pixels of the video, or normalised when every value is within 0..1.

    Raises ValueError naming the zone for points outside the frame and self-intersecting polygons.
    """
    try:
        points = [tuple(float(v) for v in pair.split(",")) for pair in text.split()]
    except ValueError:
        raise ValueError(f"zone {name!r}: write points as 'x,y x,y x,y', got {text!r}") from None
    if any(len(p) != 2 for p in points) or len(points) < 3:
        raise ValueError(f"zone {name!r}: needs at least three 'x,y' points, got {text!r}")
    if any(v > 1.0 for p in points for v in p):
        outside = [p for p in points if not (0 <= p[0] <= width and 0 <= p[1] <= height)]
        if outside:
            x, y = outside[0]
            raise ValueError(f"zone {name!r}: point ({x:g}, {y:g}) lies outside the {width}x{height} frame")
        points = [(x / width, y / height) for x, y in points]
    elif any(v < 0 for p in points for v in p):
        raise ValueError(f"zone {name!r}: negative coordinates lie outside the frame")
    try:
        return ZoneConfig(name=name, points=points, drawn_on=f"{width}x{height}")
    except ValueError as error:
        problems = "; ".join(e["msg"] for e in getattr(error, "errors", lambda: [])()) or str(error)
        raise ValueError(f"zone {name!r}: {problems}") from None


def analysis_camera(detectors: Sequence[DetectorSettings], role: Role, camera_id: str = "file") -> CameraConfig:
    return CameraConfig(
        id=camera_id,
        name=camera_id,
        institution="offline",
        role=role,
        source=SourceConfig(url="offline"),
        detectors=detectors,
    )


def tuning_detectors(path: Path) -> list[DetectorSettings]:
    """`detectors:` of a tuning file, written like a camera's `detectors` in vms.yaml; ValueError naming each
    problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("detectors", []), list):
        raise ValueError(f"{path}: expected a mapping with a 'detectors' list")
    try:
        return detector_settings(data.get("detectors", []))
    except ValidationError as error:
        problems = "; ".join(f"detectors.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise ValueError(f"{path}: {problems}") from None


def offline_camera(video: Path, role: Role, zones: Sequence[str], tuning: Path | None) -> CameraConfig:
    """The camera `vms analyze` plays: the tuning file's detectors, with the route drawn as `zones` (polygons in
    pixels of the video, or normalised); ValueError (or NotVideo, ZoneMismatch) saying what is wrong."""
    width, height = video_size(video)
    detectors = tuning_detectors(tuning) if tuning else []
    drawn = [parse_zone(text, f"zone{n + 1}", width, height) for n, text in enumerate(zones)]
    if drawn:
        route = next((d for d in detectors if d.type == "blocked_route"), None)
        params = route.model_dump()["params"] if route else {}
        detectors = [d for d in detectors if d.type != "blocked_route"]
        detectors += detector_settings([{"type": "blocked_route", "zones": drawn, "params": params}])
    if role == "evacuation_route" and not any(d.type == "blocked_route" for d in detectors):
        raise ValueError('an evacuation route needs its zone: --zone "x,y x,y x,y ..."')
    return analysis_camera(detectors, role, camera_id=video.stem[:60] or "file")


def analyze(path: Path, camera: CameraConfig) -> Iterator[FoundViolation]:
    """Each violation in the file, as it ends (those still running at the end of the file end there)."""
    with _open(path) as container:
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        analysis = CameraAnalysis(camera, width, height)  # ZoneMismatch names the camera and the zone
        if analysis.problems:
            raise ValueError("; ".join(analysis.problems))
        key_only = analysis.need.key_frames_only
        stream.codec_context.thread_count = 1
        if key_only:
            decode_key_frames_only(stream.codec_context)
        scaler = FrameScaler()
        time_base = stream.time_base or Fraction(1, 90000)
        started: dict[tuple[str, str | None], ViolationEvent] = {}
        last_at = 0.0
        next_at = 0.0
        try:
            for packet in container.demux(stream):
                if packet.size == 0 or (key_only and not packet.is_keyframe):
                    continue
                for frame in packet.decode():
                    if frame.pts is None:
                        continue
                    at = float(frame.pts * time_base)
                    fps = analysis.need.fps  # a detector may ask for more frames at times (at night)
                    if fps and at < next_at:
                        continue
                    next_at = at + (1.0 / fps if fps else 0.0)
                    last_at = at
                    for event in analysis.process(scaler.scale(frame, at)):
                        yield from _track(event, started, width, height)
        except av.error.FFmpegError as error:
            raise NotVideo(f"{path}: unreadable video ({error.strerror or error})") from None
        for event in analysis.finish(last_at, "end of file"):
            yield from _track(event, started, width, height)


def _track(
    event: ViolationEvent, started: dict[tuple[str, str | None], ViolationEvent], width: int, height: int
) -> Iterator[FoundViolation]:
    key = (event.kind, event.zone)
    if event.phase in ("started", "reopened"):
        started[key] = event
        return
    bbox = None
    if event.bbox is not None:
        x, y, w, h = event.bbox
        bbox = [round(x * width), round(y * height), round(w * width), round(h * height)]
    started.pop(key, None)
    yield FoundViolation(
        event.kind,
        label(event.kind),
        event.zone,
        round(event.started_at, 2),
        round(event.at, 2),
        round(event.confidence, 3),
        bbox,
    )
