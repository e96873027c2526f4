"""Turns a stream of observations of one kind (and zone) into violations with a start and an end."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from detectors.interface import BBox, Observation
from detectors.violations.events import ViolationEvent
from detectors.violations.rules import AlarmParams
from detectors.violations.schedule import ALWAYS, ArmingSchedule


@dataclass(slots=True)
class _Sample:
    at: float
    active: bool
    confidence: float
    bbox: BBox | None


class ViolationTracker:
    """Rules, in order:

    - **debounce**: a violation starts when the condition was first seen at least `dwell_s` ago and holds
      in at least `min_share` of the samples of the last `dwell_s` (samples saying nothing do not count);
    - **end**: once fewer than half the samples of the last `clear_s` hold, and the violation has lasted
      `min_duration_s`;
    - **re-alarm suppression**: a start within `realarm_s` of the last end reopens that violation instead
      of raising a new alarm;
    - **arming**: outside the schedule nothing starts, and a running violation ends ("disarmed").
    """

    def __init__(self, kind: str, zone: str | None, params: AlarmParams, schedule: ArmingSchedule = ALWAYS) -> None:
        self.kind = kind
        self.zone = zone
        self.params = params
        self.schedule = schedule
        self._samples: deque[_Sample] = deque()
        self._onset: float | None = None
        self.active_since: float | None = None
        self._violation_onset = 0.0
        self._last_end: float | None = None
        self._last_started = 0.0
        self._peak = 0.0  # the running violation's highest window confidence
        self._bbox: BBox | None = None
        self._counting_from = 0.0  # the onset of the running activation

    @property
    def active(self) -> bool:
        return self.active_since is not None

    def update(self, observation: Observation) -> ViolationEvent | None:
        at = observation.at
        if observation.active is not None:
            self._samples.append(_Sample(at, observation.active, observation.confidence, observation.bbox))
        horizon = at - max(self.params.dwell_s, self.params.clear_s) - 1e-6
        while self._samples and self._samples[0].at < horizon:
            self._samples.popleft()
        if not self.schedule.armed(at):
            self._onset = None
            return self._end(at, "disarmed") if self.active else None
        if observation.active and self._onset is None:
            self._onset = at
        if self.active_since is not None:
            confidence, bbox = self._evidence(at)
            self._peak = max(self._peak, confidence)
            self._bbox = bbox or self._bbox
            # Only what was seen since this activation's onset can clear it: with a dwell shorter than `clear_s`,
            # the samples from before it would end it the moment it starts.
            clear_window = [s for s in self._window(at, self.params.clear_s) if s.at >= self._counting_from - 1e-6]
            if (
                clear_window
                and sum(s.active for s in clear_window) / len(clear_window) < 0.5
                and (at - self.active_since >= self.params.min_duration_s)
            ):
                return self._end(at, "clear")
            return None
        if self._onset is not None and self._share(at, self.params.clear_s) == 0.0 and observation.active is False:
            self._onset = None  # the condition went away before it counted
        if not observation.active or self._onset is None or at - self._onset < self.params.dwell_s - 1e-6:
            return None  # a violation starts on a sample that shows it
        if self._share(at, self.params.dwell_s) < self.params.min_share:
            return None
        return self._start(at)

    def finish(self, at: float, reason: str = "stopped") -> ViolationEvent | None:
        """End a running violation (the stream or the analysis ended)."""
        return self._end(at, reason) if self.active else None

    def _window(self, at: float, seconds: float) -> list[_Sample]:
        return [s for s in self._samples if s.at > at - seconds - 1e-6]

    def _share(self, at: float, seconds: float) -> float:
        window = self._window(at, seconds)
        return sum(s.active for s in window) / len(window) if window else 0.0

    def _evidence(self, at: float) -> tuple[float, BBox | None]:
        held = [s for s in self._window(at, self.params.dwell_s) if s.active]
        confidence = sum(s.confidence for s in held) / len(held) if held else 0.0
        bbox = next((s.bbox for s in reversed(held) if s.bbox is not None), None)
        return confidence, bbox

    def _start(self, at: float) -> ViolationEvent:
        confidence, bbox = self._evidence(at)
        self._peak, self._bbox = confidence, bbox
        onset = self._onset if self._onset is not None else at
        self._counting_from = onset
        if self._last_end is not None and at - self._last_end <= self.params.realarm_s:
            self.active_since = self._last_started
            self._last_end = None
            return ViolationEvent(
                "reopened",
                self.kind,
                self.zone,
                at,
                self._violation_onset,
                self._last_started,
                confidence,
                bbox,
                "re-alarm suppressed",
            )
        self.active_since = at
        self._last_started = at
        self._violation_onset = onset
        return ViolationEvent("started", self.kind, self.zone, at, onset, at, confidence, bbox)

    def _end(self, at: float, reason: str) -> ViolationEvent:
        confidence, bbox = self._peak, self._bbox
        started = self.active_since if self.active_since is not None else at
        self.active_since = None
        self._onset = None
        self._last_end = at
        return ViolationEvent(
            "ended", self.kind, self.zone, at, self._violation_onset, started, confidence, bbox, reason
        )
