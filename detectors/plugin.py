"""The shape of a detector plug-in: one module of `detectors/plugins/` that declares, beside its code, the
settings a camera's configuration gives it, the violation kinds it reports (labels and severity), and how it
builds its detectors for one camera.

Adding a detector is that one module (and its test): the registry (`detectors/registry.py`) finds it, the
configuration accepts its settings, the API serves its kinds' labels to the UI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Generic, Literal, TypeVar

from core.config.models import CameraConfig, DetectorSettings
from detectors.interface import Detector, StreamWatch
from detectors.violations.rules import AlarmParams
from detectors.violations.schedule import ALWAYS, ArmingSchedule

Severity = Literal["urgent", "major", "minor"]
SEVERITIES: tuple[Severity, ...] = ("urgent", "major", "minor")


@dataclass(frozen=True)
class ViolationKind:
    """One kind of violation, as the store, the API and people name it.

    `needs` are conditions of the view it can only be judged under, `spoils` those it takes away while it
    holds: a covered lens spoils the "view", so nothing needing it is judged meanwhile; a camera turned away
    spoils its "aim", which the route and focus checks need.

    `gb_alarm` is how a GB/T 28181 upper platform files it: the alarm method (5 video alarm, 6 device fault) and
    the alarm type within it (5/3 an object left, 5/11 abnormal video, 6/1 video lost).
    """

    type: str
    zh: str
    en: str
    severity: Severity
    needs: frozenset[str] = frozenset()
    spoils: frozenset[str] = frozenset()
    gb_alarm: tuple[int, int] = (5, 11)


@dataclass(frozen=True)
class PlannedDetector:
    """A detector with the rules its violations follow."""

    detector: Detector
    params: AlarmParams
    schedule: ArmingSchedule = ALWAYS


@dataclass(frozen=True)
class PlannedWatch:
    watch: StreamWatch
    params: AlarmParams
    schedule: ArmingSchedule = ALWAYS


SettingsT = TypeVar("SettingsT", bound=DetectorSettings)


class DetectorPlugin(Generic[SettingsT]):
    """Subclassed once per plug-in module, whose `PLUGIN` is an instance.

    `settings` is the model of the configuration entry (`type: Literal[...]` and typed `params`); the
    registry builds the configuration's discriminated union from every plug-in's.
    """

    settings: type[SettingsT]
    kinds: ClassVar[tuple[ViolationKind, ...]]

    @property
    def type(self) -> str:
        return str(self.settings.model_fields["type"].default)

    def default(self, camera: CameraConfig) -> SettingsT | None:
        """The settings of a camera whose configuration does not name this detector; None: it does not run
        there. (Camera health runs everywhere unless switched off.)"""
        return None

    def plan(self, settings: SettingsT, camera: CameraConfig, width: int, height: int) -> list[PlannedDetector]:
        """The frame detectors for a `width` x `height` picture of `camera`; raises `detectors.zones.ZoneMismatch`
        for a zone that cannot be used on it."""
        return []

    def watches(self, settings: SettingsT, camera: CameraConfig) -> list[PlannedWatch]:
        """Detectors fed by packet arrival rather than pictures."""
        return []

    def declared_kinds(self, settings: SettingsT) -> tuple[ViolationKind, ...]:
        """Kinds a configuration entry declares beyond the plug-in's own `kinds` (an operator's model mapping
        its classes to kinds named in the configuration); the registry adds them to the catalogue."""
        return ()
