"""人员跌倒 — someone fallen and still down after a few seconds: an urgent violation, on any camera so configured.

The person model (the shipped one knows upright and fallen people) looks at `sample_fps` while anything moves
and for a while after, and every `refresh_s` on a still scene. A "fallen" box counts only where an upright person
was seen just before within reach of it, or where a counted fall already lies (`PersonMemory`): things lying on
the floor, which the model also calls falls, never were a person walking there. The violation starts when the
fall has held for `dwell_s` and ends when nobody is down any more.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from core.config.models import CameraConfig, DetectorSettings, ZoneConfig
from detectors.frames.scaler import analysis_size
from detectors.interface import AnalysisFrame, Detection, FrameNeed, Observation
from detectors.models.persons import MotionGate, PersonMemory, PersonModel, people, standing_in
from detectors.plugin import DetectorPlugin, PlannedDetector, ViolationKind
from detectors.violations.rules import AlarmParams
from detectors.violations.schedule import ArmingSchedule
from detectors.zones import ZoneMask, check_zone_fits, zone_mask

KIND = ViolationKind("fall", "人员跌倒", "Person fallen", "urgent", needs=frozenset({"view"}))


class FallParams(AlarmParams):
    dwell_s: Annotated[float, Field(ge=1, le=600)] = 3.0  # down this long raises the violation
    min_share: Annotated[float, Field(ge=0.5, le=1.0)] = 0.6
    clear_s: Annotated[float, Field(ge=1, le=600)] = 10.0
    realarm_s: Annotated[float, Field(ge=0, le=86400)] = 120.0
    memory_s: Annotated[float, Field(ge=1, le=600)] = 30.0  # how long an upright person is remembered
    watch_s: Annotated[float, Field(ge=0, le=600)] = 20.0  # after a movement, the model keeps looking this long
    person: PersonModel = PersonModel(sample_fps=1.0)


class FallSettings(DetectorSettings):
    """人员跌倒 on a camera: the zones where a fall counts (none: the whole picture)."""

    type: Literal["fall"] = "fall"
    zones: list[ZoneConfig] = []
    params: FallParams = FallParams()


class FallDetector:
    kinds: tuple[str, ...] = (KIND.type,)

    def __init__(self, zones: list[ZoneMask], params: FallParams) -> None:
        self.zones = zones
        self.params = params
        self.need = FrameNeed(key_frames_only=False, fps=params.person.sample_fps)
        self._gate = MotionGate()
        self._memory = PersonMemory(params.person.fall_labels, params.memory_s)
        self._moved_at = float("-inf")
        self._last_at = float("-inf")
        self._down: list[Detection] = []  # the people down at the last look

    def observe(self, frame: AnalysisFrame) -> list[Observation]:
        if frame.at - self._last_at < 1.0 / self.params.person.sample_fps - 1e-3:
            return []
        self._last_at = frame.at
        names: list[str | None] = [zone.name for zone in self.zones] or [None]
        if frame.spoiled & KIND.needs:
            return [Observation(KIND.type, None, frame.at, n, detail={"reason": "view unusable"}) for n in names]
        if self._gate.started and self._gate.moved(frame.gray):
            self._moved_at = frame.at
        watching = frame.at - self._moved_at <= self.params.watch_s or bool(self._down)
        if watching or frame.at - self._gate.looked_at >= self.params.person.refresh_s:
            _, fallen = self._memory.people(frame.at, people(frame, self.params.person), frame.aspect)
            self._down = fallen
            self._gate.looked(frame)
        observations = []
        zones: list[ZoneMask | None] = list(self.zones) or [None]
        for zone in zones:
            down = standing_in(self._down, zone)
            best = max(down, key=lambda d: d.score, default=None)
            observations.append(
                Observation(
                    KIND.type,
                    best is not None,
                    frame.at,
                    zone.name if zone else None,
                    round(best.score, 3) if best else 0.0,
                    best.box if best else None,
                    {"down": len(down)},
                )
            )
        return observations


class FallPlugin(DetectorPlugin[FallSettings]):
    settings = FallSettings
    kinds: ClassVar[tuple[ViolationKind, ...]] = (KIND,)

    def plan(self, settings: FallSettings, camera: CameraConfig, width: int, height: int) -> list[PlannedDetector]:
        for zone in settings.zones:
            check_zone_fits(camera.id, zone, width, height)
        settings.params.person.load(width, height)
        aw, ah = analysis_size(width, height)
        detector = FallDetector([zone_mask(z, aw, ah) for z in settings.zones], settings.params)
        return [PlannedDetector(detector, settings.params, ArmingSchedule(settings.schedule))]


PLUGIN = FallPlugin()
