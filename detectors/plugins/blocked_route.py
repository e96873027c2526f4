"""消防通道占用 — something left standing on an evacuation route.

The clear route is learnt as a long-term background. A pixel is *occupied* when it differs from the
route (after compensating the picture's overall brightness, so lights switched on or off and gradual
daylight changes do not count) and it did not change since the previous sample: people walking through
move between two key frames and never count, a box or a cart stays; a person standing or queueing there is
found by the person model (run only when the zone would count as blocked) and does not count either. The zone's
occupied share is observed on every sample; the violation layer then asks it to hold for the dwell time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, ClassVar, Literal

import cv2
import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from core.config.models import CameraConfig, DetectorSettings, ZoneConfig
from detectors.frames.scaler import analysis_size
from detectors.interface import KEY_FRAMES, AnalysisFrame, BBox, Detection, Observation
from detectors.models.persons import PersonModel, people
from detectors.plugin import DetectorPlugin, PlannedDetector, ViolationKind
from detectors.violations.rules import AlarmParams
from detectors.violations.schedule import ArmingSchedule
from detectors.zones import ZoneMask, check_zone_fits, zone_mask

KIND = ViolationKind(
    "blocked_route",
    "消防通道占用",
    "Fire exit blocked",
    "major",
    needs=frozenset({"view", "aim"}),
    gb_alarm=(5, 3),  # 遗留物: something left in the way
)
_KERNEL = np.ones((3, 3), np.uint8)


class BlockedRouteParams(AlarmParams):
    """The occupied share of a zone and how long it must stay occupied."""

    threshold: Annotated[float, Field(ge=0.05, le=0.95)] = 0.25
    dwell_s: Annotated[float, Field(ge=5, le=600)] = 60.0
    contrast: Annotated[float, Field(ge=4, le=100)] = 18.0  # grey levels a pixel must differ from the route
    learn_s: Annotated[float, Field(ge=0, le=600)] = 6.0  # first seconds: the clear route is learnt
    absorb_s: Annotated[float, Field(ge=300, le=7 * 86400)] = 3600.0  # stationary things fade into the route
    # People standing or queueing on the route are not a blockage: where the zone would count as blocked, the
    # person model looks, and what lies within people's boxes does not count. What a person left still does.
    ignore_people: bool = True
    person: PersonModel = PersonModel()


class BlockedRouteSettings(DetectorSettings):
    """消防通道占用 on an evacuation route: the zones drawn on the route's floor."""

    type: Literal["blocked_route"] = "blocked_route"
    zones: list[ZoneConfig] = Field(default=[], validate_default=True)
    params: BlockedRouteParams = BlockedRouteParams()

    @field_validator("zones")
    @classmethod
    def _zones_drawn(cls, zones: list[ZoneConfig], info: ValidationInfo) -> list[ZoneConfig]:
        if not zones and info.data.get("enabled", True):
            raise ValueError("blocked_route needs at least one zone drawn on the route")
        return zones


class BlockedRouteDetector:
    """One camera's route zones against one learnt background."""

    need = KEY_FRAMES
    kinds: tuple[str, ...] = (KIND.type,)

    def __init__(self, zones: Sequence[ZoneMask], params: BlockedRouteParams) -> None:
        self.zones = list(zones)
        self.params = params
        self._background: np.ndarray | None = None
        self._background_chroma: np.ndarray | None = None
        self._previous: np.ndarray | None = None
        self._previous_foreground: np.ndarray = np.zeros((0, 0), bool)
        self._previous_gain = 1.0
        self._stationary: np.ndarray | bool = False
        self._first_at = 0.0
        self._last_at = 0.0
        self._learning: list[tuple[np.ndarray, np.ndarray]] = []

    def observe(self, frame: AnalysisFrame) -> list[Observation]:
        gray = cv2.GaussianBlur(frame.gray, (5, 5), 0).astype(np.float32)
        chroma = _centred_chroma(frame, gray.shape)
        if self._background is None or self._background.shape != gray.shape:
            self._background = gray.copy()
            self._background_chroma = chroma.copy()
            self._previous, self._previous_foreground = gray, np.zeros(gray.shape, bool)
            self._first_at = self._last_at = frame.at
            self._learning = [(gray, chroma)]
            return self._silent(frame.at)
        dt = max(0.0, frame.at - self._last_at)
        self._last_at = frame.at
        if self._learning:
            self._learning.append((gray, chroma))
            self._previous = gray
            if frame.at - self._first_at < self.params.learn_s:
                return self._silent(frame.at)
            # The clear route is the per-pixel median of the first samples: people walking through while
            # it is learnt leave no trace.
            self._background = np.median(np.stack([g for g, _ in self._learning]), axis=0).astype(np.float32)
            self._background_chroma = np.median(np.stack([c for _, c in self._learning]), axis=0).astype(np.float32)
            self._learning = []
            self._previous_gain = _gain(gray, self._background)
            return self._silent(frame.at)

        background = self._background
        gain = _gain(gray, background)
        expected = background * gain
        # Differences shrink with the light: the tolerance follows it down to a floor above camera noise.
        tolerance = self.params.contrast * min(1.0, max(gain, 0.3)) + 0.05 * expected
        # Colour counts too (a brown box on a grey floor of the same brightness); chroma fades with the light.
        background_chroma = self._background_chroma
        assert background_chroma is not None
        colour_shift = np.abs(chroma - background_chroma * min(gain, 1.0)).sum(axis=0)
        colour_tolerance = self.params.contrast * 0.6 * min(gain, 1.0) + 4
        # Hysteresis: what already stands there keeps counting at a lower contrast, so an object near
        # the threshold does not flicker in and out of the mask.
        held = np.where(self._stationary, 0.6, 1.0).astype(np.float32)
        differs = (np.abs(gray - expected) > tolerance * held) | (colour_shift > colour_tolerance * held)
        foreground = cv2.morphologyEx(differs.astype(np.uint8), cv2.MORPH_OPEN, _KERNEL).astype(bool)
        # Still since the previous sample: compare with it at today's brightness.
        previous = self._previous * (gain / self._previous_gain) if self._previous is not None else gray
        still = np.abs(gray - previous) < tolerance
        stationary = foreground & still & self._previous_foreground
        self._stationary = stationary
        scene_changed = foreground.mean() > 0.5  # most of the picture is new: a moved camera, not a box

        # Learn: the route slowly follows what is not foreground; stationary things fade in only over absorb_s.
        rate_clear = min(1.0, dt / 60.0)
        rate_busy = min(1.0, dt / self.params.absorb_s)
        normalised = gray / gain
        rates = np.where(foreground, rate_busy, rate_clear).astype(np.float32)
        background += (normalised - background) * rates
        background_chroma += (chroma / min(gain, 1.0) - background_chroma) * rates
        self._previous, self._previous_gain, self._previous_foreground = gray, gain, foreground

        # While the lens is covered or the camera points elsewhere, the route keeps its background but says
        # nothing: what it would see is not the route.
        unusable = bool(frame.spoiled & KIND.needs)
        if unusable or scene_changed:
            return self._silent(frame.at, None, {"reason": "view unusable" if unusable else "scene changed"})
        observations = []
        height, width = gray.shape
        for zone in self.zones:
            occupied = stationary & zone.mask
            share = float(occupied.sum()) / zone.area if zone.area else 0.0
            active = share >= self.params.threshold
            standing = 0
            if active and self.params.ignore_people:
                found = people(frame, self.params.person)
                standing = len(found)
                if found:
                    occupied = occupied & ~_boxes(found, occupied.shape)
                    share = float(occupied.sum()) / zone.area if zone.area else 0.0
                    active = share >= self.params.threshold
            confidence = min(1.0, share / self.params.threshold / 2 + 0.5) if active else share
            observations.append(
                Observation(
                    KIND.type,
                    active,
                    frame.at,
                    zone.name,
                    round(confidence, 3),
                    _bbox(occupied, width, height),
                    {"occupied_share": round(share, 3), "gain": round(gain, 3), "people": standing},
                )
            )
        return observations

    def view_changed(self) -> None:
        """Learn the route again (the camera now shows another view)."""
        self._background = None
        self._learning = []
        self._stationary = False

    def _silent(self, at: float, active: bool | None = None, detail: dict[str, Any] | None = None) -> list[Observation]:
        return [Observation(KIND.type, active, at, z.name, detail=detail or {"reason": "learning"}) for z in self.zones]


def _centred_chroma(frame: AnalysisFrame, shape: tuple[int, ...]) -> np.ndarray:
    """U and V around zero, blurred, at analysis size (zeros for a grey-only source)."""
    if frame.chroma is None:
        return np.zeros((2, *shape), np.float32)
    planes = [
        cv2.resize(cv2.GaussianBlur(p, (3, 3), 0), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
        for p in frame.chroma
    ]
    return np.stack(planes).astype(np.float32) - 128.0


def _gain(gray: np.ndarray, background: np.ndarray) -> float:
    """The picture's overall brightness against the background: robust to what stands in the way."""
    valid = background > 8
    if valid.sum() < 0.1 * background.size:
        return 1.0
    return float(np.clip(np.median(gray[valid] / background[valid]), 0.05, 20.0))


def _boxes(found: Sequence[Detection], shape: tuple[int, ...]) -> np.ndarray:
    """The pixels within people's boxes (grown a little: edges and shadows), at analysis size."""
    height, width = shape[:2]
    mask = np.zeros((height, width), bool)
    for detection in found:
        x, y, w, h = detection.box
        x0, x1 = max(0, int((x - 0.1 * w) * width)), min(width, int((x + 1.1 * w) * width) + 1)
        y0, y1 = max(0, int((y - 0.05 * h) * height)), min(height, int((y + 1.1 * h) * height) + 1)
        mask[y0:y1, x0:x1] = True
    return mask


def _bbox(mask: np.ndarray, width: int, height: int) -> BBox | None:
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    return (round(x0 / width, 4), round(y0 / height, 4), round((x1 - x0) / width, 4), round((y1 - y0) / height, 4))


class BlockedRoutePlugin(DetectorPlugin[BlockedRouteSettings]):
    settings = BlockedRouteSettings
    kinds: ClassVar[tuple[ViolationKind, ...]] = (KIND,)

    def plan(
        self, settings: BlockedRouteSettings, camera: CameraConfig, width: int, height: int
    ) -> list[PlannedDetector]:
        for zone in settings.zones:
            check_zone_fits(camera.id, zone, width, height)
        if settings.params.ignore_people:
            settings.params.person.load(width, height)
        aw, ah = analysis_size(width, height)
        masks = [zone_mask(zone, aw, ah) for zone in settings.zones]
        detector = BlockedRouteDetector(masks, settings.params)
        return [PlannedDetector(detector, settings.params, ArmingSchedule(settings.schedule))]


PLUGIN = BlockedRoutePlugin()
