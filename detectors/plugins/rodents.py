"""疑似鼠患 — small things running over a kitchen floor while the lights are off: suspected rodents.

Armed when the picture says the lights are off (dark, or the camera's grey infrared night picture:
`detectors/frames/lighting.py`), and within the schedule where one is given. Small movers are found without a
model (`detectors/motion/small_movers.py`) in the floor zones (none: the whole picture), on a finer picture than
the other detectors' (`analysis_width`), at `sample_fps` while the lights are off and once a second otherwise.
A mover seen keeps the observation up for `hold_s`, so a rodent that stops behind a bin is still one run; a
night of them is one violation reopened, not one a minute (`realarm_s`).

The movers are found without a model; the person model looks only at a frame where one was found: while anyone
is in view, what moves is theirs (a person's pieces, or a person far off, are small movers too), and the
after-hours rule speaks for them. An operator's kitchen model with a rat class maps onto
this kind too (`operator_model`).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from core.config.models import CameraConfig, DetectorSettings, ZoneConfig
from detectors.frames.lighting import lights_off
from detectors.frames.scaler import analysis_size
from detectors.interface import AnalysisFrame, FrameNeed, Observation
from detectors.models.persons import PersonModel, people
from detectors.motion.small_movers import Mover, SmallMovers
from detectors.plugin import DetectorPlugin, PlannedDetector, ViolationKind
from detectors.violations.rules import AlarmParams
from detectors.violations.schedule import ArmingSchedule
from detectors.zones import ZoneMask, check_zone_fits, union_mask, zone_mask

KIND = ViolationKind(
    "suspected_rodents",
    "疑似鼠患",
    "Suspected rodents",
    "major",
    needs=frozenset({"view"}),
    gb_alarm=(5, 6),  # 入侵: something entered the kitchen
)
PEOPLE_MEMORY_S = 5.0


class RodentParams(AlarmParams):
    dwell_s: Annotated[float, Field(ge=1, le=600)] = 2.0
    min_share: Annotated[float, Field(ge=0.5, le=1.0)] = 0.6
    clear_s: Annotated[float, Field(ge=1, le=600)] = 10.0
    realarm_s: Annotated[float, Field(ge=0, le=86400)] = 1800.0
    sample_fps: Annotated[float, Field(gt=0, le=10)] = 5.0  # while the lights are off
    dark_luma: Annotated[float, Field(ge=0, le=128)] = 50.0  # a darker picture has its lights off
    analysis_width: Annotated[int, Field(ge=160, le=1280)] = 640
    min_area: Annotated[float, Field(gt=0, le=0.05)] = 0.00005  # of the picture: smaller is grain
    max_area: Annotated[float, Field(gt=0, le=0.05)] = 0.004  # larger is no rodent (a person, a cat)
    min_travel: Annotated[float, Field(gt=0, le=1)] = 0.05  # picture widths it must run to count
    hold_s: Annotated[float, Field(ge=0, le=60)] = 3.0
    # A person far off, or a piece of one near, is a small mover too: where a mover is seen, the person model
    # looks (once a second at most), and while it finds anyone the rule says nothing.
    ignore_people: bool = True
    person: PersonModel = PersonModel()

    @model_validator(mode="after")
    def _sizes_in_order(self) -> RodentParams:
        if self.min_area >= self.max_area:
            raise ValueError(f"min_area ({self.min_area}) must be below max_area ({self.max_area})")
        return self


class RodentSettings(DetectorSettings):
    """疑似鼠患 on a kitchen camera: the floor zones where rodents run (none: the whole picture)."""

    type: Literal["rodents"] = "rodents"
    zones: list[ZoneConfig] = []
    params: RodentParams = RodentParams()


class RodentDetector:
    kinds: tuple[str, ...] = (KIND.type,)

    def __init__(self, zones: list[ZoneMask], params: RodentParams) -> None:
        self.zones = zones
        self.params = params
        self._movers = SmallMovers(union_mask(zones), params.min_area, params.max_area, params.min_travel)
        self._dark = False
        self._last_at = float("-inf")
        self._seen: dict[str | None, tuple[float, Mover]] = {}
        self._people_looked_at = float("-inf")
        self._people_at = float("-inf")

    @property
    def need(self) -> FrameNeed:
        return FrameNeed(key_frames_only=False, fps=self.params.sample_fps if self._dark else 1.0)

    def observe(self, frame: AnalysisFrame) -> list[Observation]:
        if frame.at - self._last_at < 1.0 / self.need.fps - 1e-3:
            return []
        self._last_at = frame.at
        names: list[str | None] = [zone.name for zone in self.zones] or [None]
        if frame.spoiled & KIND.needs:
            return [Observation(KIND.type, None, frame.at, n, detail={"reason": "view unusable"}) for n in names]
        dark = lights_off(frame, self.params.dark_luma)
        if dark != self._dark:
            self._dark = dark
            self._movers.reset()
        if not dark:
            self._seen.clear()
            return [Observation(KIND.type, False, frame.at, n, detail={"reason": "lights on"}) for n in names]
        movers = self._movers.update(frame.luma(self.params.analysis_width), frame.at) or []
        if movers and self.params.ignore_people and self._people_in_view(frame):
            # Someone is there (out of hours, that is the after-hours rule's): what moves is theirs.
            self._seen.clear()
            return [Observation(KIND.type, None, frame.at, n, detail={"reason": "people in view"}) for n in names]
        zones: list[ZoneMask | None] = list(self.zones) or [None]
        for found in movers:
            for zone in zones:
                if zone is None or _inside(found, zone):
                    self._seen[zone.name if zone else None] = (frame.at, found)
        observations = []
        for name in names:
            at, mover = self._seen.get(name) or (float("-inf"), None)
            if mover is None or frame.at - at > self.params.hold_s:
                observations.append(Observation(KIND.type, False, frame.at, name))
                continue
            confidence = min(0.95, 0.5 + 0.05 * mover.sightings)
            observations.append(
                Observation(KIND.type, True, frame.at, name, confidence, mover.box, {"travel": mover.travel})
            )
        return observations

    def _people_in_view(self, frame: AnalysisFrame) -> bool:
        """Whether the person model found anyone within the last `PEOPLE_MEMORY_S`; it looks once a second at most."""
        if frame.at - self._people_looked_at >= 1.0:
            self._people_looked_at = frame.at
            falls = set(self.params.person.fall_labels)  # things on the floor are "falls" to the shipped model
            if any(p.label not in falls for p in people(frame, self.params.person)):
                self._people_at = frame.at
        return frame.at - self._people_at <= PEOPLE_MEMORY_S


def _inside(mover: Mover, zone: ZoneMask) -> bool:
    x, y, w, h = mover.box
    height, width = zone.mask.shape
    col, row = min(width - 1, int((x + w / 2) * width)), min(height - 1, int((y + h / 2) * height))
    return bool(zone.mask[row, col])


class RodentPlugin(DetectorPlugin[RodentSettings]):
    settings = RodentSettings
    kinds: ClassVar[tuple[ViolationKind, ...]] = (KIND,)

    def plan(self, settings: RodentSettings, camera: CameraConfig, width: int, height: int) -> list[PlannedDetector]:
        for zone in settings.zones:
            check_zone_fits(camera.id, zone, width, height)
        if settings.params.ignore_people:
            settings.params.person.load(width, height)
        aw, ah = analysis_size(width, height, settings.params.analysis_width)
        detector = RodentDetector([zone_mask(z, aw, ah) for z in settings.zones], settings.params)
        return [PlannedDetector(detector, settings.params, ArmingSchedule(settings.schedule))]


PLUGIN = RodentPlugin()
