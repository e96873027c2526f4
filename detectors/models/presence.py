"""How many people stand in each of a camera's zones, looked at with the person model only where something moved
there since the last look (or `refresh_s` passed), and while people are there only every `recheck_s`: the shared
core of the rules about people being somewhere (duty post attended, kitchen occupied out of hours)."""

from __future__ import annotations

from collections.abc import Callable

from detectors.interface import AnalysisFrame, Observation
from detectors.models.persons import MotionGate, PersonMemory, PersonModel, people, standing_in
from detectors.plugin import ViolationKind
from detectors.zones import ZoneMask, union_mask


class ZonePresence:
    """`recheck_s`: while people are there, the model looks again at most this often though they move (their
    leaving is seen within it); while nobody is, at once when something moves (an arrival is seen at once)."""

    def __init__(self, zones: list[ZoneMask], model: PersonModel, recheck_s: float = 5.0) -> None:
        self.zones = zones
        self.model = model
        self.recheck_s = recheck_s
        self.names: list[str | None] = [zone.name for zone in zones] or [None]
        self._gate = MotionGate(union_mask(zones))
        self._memory = PersonMemory(model.fall_labels)
        self._counts: dict[str | None, int] | None = None
        self._last_at = float("-inf")

    def sampled(self, frame: AnalysisFrame) -> bool:
        """Whether this frame is one to judge at the model's `sample_fps` (the camera may decode more)."""
        if frame.at - self._last_at < 1.0 / self.model.sample_fps - 1e-3:
            return False
        self._last_at = frame.at
        return True

    def counts(self, frame: AnalysisFrame) -> dict[str | None, int]:
        """People in each zone (seated, asleep or fallen count), by zone name (None: the whole picture)."""
        last = self._counts
        if last is not None and any(last.values()) and frame.at - self._gate.looked_at < self.recheck_s:
            return last
        if self._counts is None or self._gate.due(frame, self.model.refresh_s):
            upright, fallen = self._memory.people(frame.at, people(frame, self.model), frame.aspect)
            found = upright + fallen
            self._gate.looked(frame)
            zones: list[ZoneMask | None] = list(self.zones) or [None]
            self._counts = {zone.name if zone else None: len(standing_in(found, zone)) for zone in zones}
        return self._counts

    def observe(
        self, frame: AnalysisFrame, kind: ViolationKind, dark_luma: float, holds: Callable[[int], bool]
    ) -> list[Observation]:
        """`kind`'s observations per zone at the sampling rate: whether it `holds` for the zone's count of people;
        nothing to say while the view is spoiled or too dark to see anyone."""
        if not self.sampled(frame):
            return []
        if frame.spoiled & kind.needs or float(frame.gray.mean()) < dark_luma:
            reason = "view unusable" if frame.spoiled & kind.needs else "too dark to see anyone"
            return [Observation(kind.type, None, frame.at, name, detail={"reason": reason}) for name in self.names]
        counts = self.counts(frame)
        observations = []
        for name in self.names:
            held = holds(counts[name])
            observations.append(
                Observation(kind.type, held, frame.at, name, 0.9 if held else 0.0, detail={"people": counts[name]})
            )
        return observations
