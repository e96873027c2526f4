"""非工作时间有人 — someone in the kitchen (or any zone so watched) outside working hours.

The arming schedule is the hours outside work (e.g. 20:00-24:00 and 00:00-05:00 every day): within them, a person
in a zone for `dwell_s` raises the violation, which ends when they have gone. The person model looks only where
something moved (`ZonePresence`). A picture too dark to see anyone says nothing here; movement in the dark is the
rodent rule's (`rodents.py`).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from core.config.models import ArmingWindowConfig, CameraConfig, DetectorSettings, ZoneConfig
from detectors.frames.scaler import analysis_size
from detectors.interface import AnalysisFrame, FrameNeed, Observation
from detectors.models.persons import PersonModel
from detectors.models.presence import ZonePresence
from detectors.plugin import DetectorPlugin, PlannedDetector, ViolationKind
from detectors.violations.rules import AlarmParams
from detectors.violations.schedule import ArmingSchedule
from detectors.zones import ZoneMask, check_zone_fits, zone_mask

KIND = ViolationKind(
    "after_hours_presence",
    "非工作时间有人",
    "Person present out of hours",
    "major",
    needs=frozenset({"view"}),
    gb_alarm=(5, 6),  # 入侵: an intrusion
)


class AfterHoursParams(AlarmParams):
    dwell_s: Annotated[float, Field(ge=1, le=600)] = 10.0
    clear_s: Annotated[float, Field(ge=1, le=600)] = 10.0
    dark_luma: Annotated[float, Field(ge=0, le=128)] = 25.0  # a darker picture says nothing
    recheck_s: Annotated[float, Field(ge=1, le=600)] = 5.0  # while someone is there, the model looks this often
    person: PersonModel = PersonModel()


class AfterHoursSettings(DetectorSettings):
    """非工作时间有人: the zones watched (none: the whole picture) and, as `schedule`, the hours outside work."""

    type: Literal["after_hours_presence"] = "after_hours_presence"
    zones: list[ZoneConfig] = []
    schedule: list[ArmingWindowConfig] = Field(default=[], validate_default=True, description="the hours outside work")
    params: AfterHoursParams = AfterHoursParams()

    @field_validator("schedule")
    @classmethod
    def _hours_given(cls, schedule: list[ArmingWindowConfig], info: ValidationInfo) -> list[ArmingWindowConfig]:
        if not schedule and info.data.get("enabled", True):
            raise ValueError("give the hours outside work as arming windows (e.g. start 20:00, end 24:00)")
        return schedule


class AfterHoursDetector:
    kinds: tuple[str, ...] = (KIND.type,)

    def __init__(self, zones: list[ZoneMask], params: AfterHoursParams) -> None:
        self.params = params
        self.need = FrameNeed(key_frames_only=False, fps=params.person.sample_fps)
        self._presence = ZonePresence(zones, params.person, params.recheck_s)

    def observe(self, frame: AnalysisFrame) -> list[Observation]:
        return self._presence.observe(frame, KIND, self.params.dark_luma, lambda people: people > 0)


class AfterHoursPlugin(DetectorPlugin[AfterHoursSettings]):
    settings = AfterHoursSettings
    kinds: ClassVar[tuple[ViolationKind, ...]] = (KIND,)

    def plan(
        self, settings: AfterHoursSettings, camera: CameraConfig, width: int, height: int
    ) -> list[PlannedDetector]:
        for zone in settings.zones:
            check_zone_fits(camera.id, zone, width, height)
        settings.params.person.load(width, height)
        aw, ah = analysis_size(width, height)
        detector = AfterHoursDetector([zone_mask(z, aw, ah) for z in settings.zones], settings.params)
        return [PlannedDetector(detector, settings.params, ArmingSchedule(settings.schedule))]


PLUGIN = AfterHoursPlugin()
