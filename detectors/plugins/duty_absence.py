"""值班脱岗 — nobody at the duty post (a duty or fire-control room) for longer than allowed.

The person model looks at the duty zone (the whole picture where none is drawn) at `sample_fps`, but only where
something moved there since it last looked, or `refresh_s` passed: a guard asleep at the desk does not move and is
still there, an empty room does not move and is still empty; while someone is there it looks again only every
`recheck_s` (their leaving is seen within it, well inside the dwell). Someone seated or lying down counts as present
(the model finds people in any pose). A picture too dark to see anyone says nothing (the camera-health detector
reports a dark or covered camera itself). The violation starts when the room has been empty for `dwell_s`
(10 minutes by default) within the arming schedule (24 hours unless given), and ends when someone is back.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from core.config.models import CameraConfig, DetectorSettings, ZoneConfig
from detectors.frames.scaler import analysis_size
from detectors.interface import AnalysisFrame, FrameNeed, Observation
from detectors.models.persons import PersonModel
from detectors.models.presence import ZonePresence
from detectors.plugin import DetectorPlugin, PlannedDetector, ViolationKind
from detectors.violations.rules import AlarmParams
from detectors.violations.schedule import ArmingSchedule
from detectors.zones import ZoneMask, check_zone_fits, zone_mask

KIND = ViolationKind(
    "duty_absent",
    "值班脱岗",
    "Duty post unattended",
    "major",
    needs=frozenset({"view"}),
    gb_alarm=(5, 9),  # 人数统计: the count at the post is nought
)


class DutyAbsenceParams(AlarmParams):
    dwell_s: Annotated[float, Field(ge=5, le=7200)] = 600.0  # empty this long raises the violation
    min_share: Annotated[float, Field(ge=0.5, le=1.0)] = 0.9
    clear_s: Annotated[float, Field(ge=1, le=600)] = 5.0  # someone back this long ends it
    dark_luma: Annotated[float, Field(ge=0, le=128)] = 25.0  # a darker picture says nothing
    recheck_s: Annotated[float, Field(ge=1, le=600)] = 5.0  # while someone is there, the model looks this often
    person: PersonModel = PersonModel()


class DutyAbsenceSettings(DetectorSettings):
    """值班脱岗 on a duty-room camera: the zones where the person on duty sits (none: the whole picture)."""

    type: Literal["duty_absence"] = "duty_absence"
    zones: list[ZoneConfig] = []
    params: DutyAbsenceParams = DutyAbsenceParams()


class DutyAbsenceDetector:
    kinds: tuple[str, ...] = (KIND.type,)

    def __init__(self, zones: list[ZoneMask], params: DutyAbsenceParams) -> None:
        self.params = params
        self.need = FrameNeed(key_frames_only=False, fps=params.person.sample_fps)
        self._presence = ZonePresence(zones, params.person, params.recheck_s)

    def observe(self, frame: AnalysisFrame) -> list[Observation]:
        return self._presence.observe(frame, KIND, self.params.dark_luma, lambda people: people == 0)


class DutyAbsencePlugin(DetectorPlugin[DutyAbsenceSettings]):
    settings = DutyAbsenceSettings
    kinds: ClassVar[tuple[ViolationKind, ...]] = (KIND,)

    def plan(
        self, settings: DutyAbsenceSettings, camera: CameraConfig, width: int, height: int
    ) -> list[PlannedDetector]:
        for zone in settings.zones:
            check_zone_fits(camera.id, zone, width, height)
        settings.params.person.load(width, height)
        aw, ah = analysis_size(width, height)
        detector = DutyAbsenceDetector([zone_mask(z, aw, ah) for z in settings.zones], settings.params)
        return [PlannedDetector(detector, settings.params, ArmingSchedule(settings.schedule))]


PLUGIN = DutyAbsencePlugin()
