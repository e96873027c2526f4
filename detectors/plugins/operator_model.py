"""An operator's own detection model (trained elsewhere on their kitchens' footage, exported from ultralytics to
ONNX) whose classes the configuration maps onto violation kinds, with no code:

    - type: model
      model: /var/lib/vms/models/kitchen.onnx
      classes:
        no_hat: {kind: no_chef_hat}            # a bright-kitchen kind declared here (未戴厨师帽)
        cig: {kind: smoking, min_score: 0.6}
        lid_off: {kind: bin_lid_open, label: 垃圾桶盖未盖, label_en: Bin lid open, severity: minor}

A class mapped onto a kind this module does not declare brings the kind's labels and severity with it; the
registry adds it to the catalogue the API and the UI read. The model runs at `sample_fps` where something moved
in the zones since it last looked, and every `refresh_s` on a still scene (an open bin does not move); it runs
once a frame however many detectors of the camera ask. A class the model does not have, or a file that is not a
detection model, stops this detector at start-up with the camera and the file named; the camera's others run.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.config.models import CameraConfig, DetectorSettings, ZoneConfig
from detectors.frames.scaler import analysis_size
from detectors.interface import AnalysisFrame, Detection, FrameNeed, Observation
from detectors.models.frame_models import MODELS
from detectors.models.persons import MotionGate, standing_in
from detectors.models.yolo_onnx import ModelError
from detectors.plugin import DetectorPlugin, PlannedDetector, Severity, ViolationKind
from detectors.violations.rules import AlarmParams
from detectors.violations.schedule import ArmingSchedule
from detectors.zones import ZoneMask, check_zone_fits, union_mask, zone_mask

_VIEW = frozenset({"view"})
# What bright-kitchen (明厨亮灶) systems flag that a model can see; the classes of an operator's model map onto them.
KITCHEN_KINDS = (
    ViolationKind("no_chef_hat", "未戴厨师帽", "No chef hat", "minor", needs=_VIEW),
    ViolationKind("no_mask", "未戴口罩", "No mask", "minor", needs=_VIEW),
    ViolationKind("no_work_clothes", "未穿工作服", "No work clothes", "minor", needs=_VIEW),
    ViolationKind("smoking", "吸烟", "Smoking", "major", needs=_VIEW),
    ViolationKind("phone_use", "玩手机", "Phone in use", "minor", needs=_VIEW),
    ViolationKind("rat_seen", "发现老鼠", "Rat seen", "major", needs=_VIEW, gb_alarm=(5, 6)),
    ViolationKind("bin_uncovered", "垃圾桶未加盖", "Bin uncovered", "minor", needs=_VIEW),
)
_OWN = {kind.type: kind for kind in KITCHEN_KINDS}
KindName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,47}$")]


class ClassRule(BaseModel):
    """Where one of the model's classes leads: a kind declared here, or a new one with its labels."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: KindName
    label: str | None = Field(default=None, min_length=1, max_length=40, description="zh-CN, for a new kind")
    label_en: str | None = Field(default=None, min_length=1, max_length=80)
    severity: Severity = "minor"
    min_score: Annotated[float, Field(ge=0.05, le=0.99)] | None = None  # this class's bar; else the params'

    @model_validator(mode="after")
    def _labelled(self) -> ClassRule:
        if self.kind not in _OWN and self.label is None:
            known = ", ".join(_OWN)
            raise ValueError(f"kind {self.kind!r} is not one of {known}: give it a label (and label_en, severity)")
        return self

    def violation_kind(self) -> ViolationKind:
        own = _OWN.get(self.kind)
        if own is not None and self.label is None:
            return own
        return ViolationKind(self.kind, self.label or self.kind, self.label_en or self.kind, self.severity, _VIEW)


class OperatorModelParams(AlarmParams):
    dwell_s: Annotated[float, Field(ge=1, le=600)] = 3.0
    min_share: Annotated[float, Field(ge=0.5, le=1.0)] = 0.6
    clear_s: Annotated[float, Field(ge=1, le=600)] = 10.0
    realarm_s: Annotated[float, Field(ge=0, le=86400)] = 600.0
    min_score: Annotated[float, Field(ge=0.05, le=0.99)] = 0.5
    sample_fps: Annotated[float, Field(gt=0, le=10)] = 1.0
    refresh_s: Annotated[float, Field(ge=1, le=3600)] = 30.0  # looks at least this often though nothing moves


class OperatorModelSettings(DetectorSettings):
    """An operator's detection model: its file, its classes mapped onto violation kinds, the zones watched (none:
    the whole picture)."""

    type: Literal["model"] = "model"
    model: str = Field(min_length=1, description="an ultralytics-exported ONNX detection model")
    classes: dict[str, ClassRule] = Field(min_length=1, description="model class name → violation kind")
    zones: list[ZoneConfig] = []
    params: OperatorModelParams = OperatorModelParams()

    @model_validator(mode="after")
    def _one_meaning_per_kind(self) -> OperatorModelSettings:
        meanings: dict[str, ViolationKind] = {}
        for name, rule in self.classes.items():
            kind = rule.violation_kind()
            if meanings.setdefault(kind.type, kind) != kind:
                raise ValueError(f"class {name!r}: kind {kind.type!r} is given other labels by another class")
        return self


class OperatorModelDetector:
    def __init__(self, path: str, settings: OperatorModelSettings, zones: list[ZoneMask]) -> None:
        self.path = path
        self.params = settings.params
        self.zones = zones
        self.kinds: tuple[str, ...] = tuple(dict.fromkeys(rule.kind for rule in settings.classes.values()))
        self.need = FrameNeed(key_frames_only=False, fps=settings.params.sample_fps)
        self._bar = {name: rule.min_score or settings.params.min_score for name, rule in settings.classes.items()}
        self._kind_of = {name: rule.kind for name, rule in settings.classes.items()}
        self._gate = MotionGate(union_mask(zones))
        self._found: list[Detection] = []
        self._last_at = float("-inf")

    def observe(self, frame: AnalysisFrame) -> list[Observation]:
        if frame.at - self._last_at < 1.0 / self.params.sample_fps - 1e-3:
            return []
        self._last_at = frame.at
        names: list[str | None] = [zone.name for zone in self.zones] or [None]
        if frame.spoiled & _VIEW:
            return [
                Observation(kind, None, frame.at, n, detail={"reason": "view unusable"})
                for kind in self.kinds
                for n in names
            ]
        if frame.models is not None and self._gate.due(frame, self.params.refresh_s):
            found = frame.models.detect(self.path)
            self._found = [d for d in found if d.label in self._bar and d.score >= self._bar[d.label]]
            self._gate.looked(frame)
        observations = []
        zones: list[ZoneMask | None] = list(self.zones) or [None]
        for kind in self.kinds:
            mine = [d for d in self._found if self._kind_of[d.label] == kind]
            for zone in zones:
                best = max(standing_in(mine, zone), key=lambda d: d.score, default=None)
                observations.append(
                    Observation(
                        kind,
                        best is not None,
                        frame.at,
                        zone.name if zone else None,
                        round(best.score, 3) if best else 0.0,
                        best.box if best else None,
                        {"class": best.label} if best else {},
                    )
                )
        return observations


class OperatorModelPlugin(DetectorPlugin[OperatorModelSettings]):
    settings = OperatorModelSettings
    kinds: ClassVar[tuple[ViolationKind, ...]] = KITCHEN_KINDS

    def declared_kinds(self, settings: OperatorModelSettings) -> tuple[ViolationKind, ...]:
        kinds = {rule.violation_kind() for rule in settings.classes.values()}
        return tuple(sorted((k for k in kinds if _OWN.get(k.type) != k), key=lambda k: k.type))

    def plan(
        self, settings: OperatorModelSettings, camera: CameraConfig, width: int, height: int
    ) -> list[PlannedDetector]:
        for zone in settings.zones:
            check_zone_fits(camera.id, zone, width, height)
        model = MODELS.get(settings.model)  # ModelError naming the file
        unknown = [name for name in settings.classes if name not in model.names.values()]
        if unknown:
            has = ", ".join(model.names.values())
            raise ModelError(f"model file {settings.model} has no class {', '.join(map(repr, unknown))} (it has {has})")
        aw, ah = analysis_size(width, height)
        detector = OperatorModelDetector(settings.model, settings, [zone_mask(z, aw, ah) for z in settings.zones])
        return [PlannedDetector(detector, settings.params, ArmingSchedule(settings.schedule))]


PLUGIN = OperatorModelPlugin()
