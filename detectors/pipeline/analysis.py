"""One camera's analysis: its detectors on each frame, their observations through the violation rules."""

from __future__ import annotations

from dataclasses import replace

from core.config.models import CameraConfig
from detectors.interface import AnalysisFrame, FrameNeed, Observation, Relearns
from detectors.models.frame_models import MODEL_WIDTH, SharedFrameModels
from detectors.models.yolo_onnx import ModelError
from detectors.plugin import PlannedDetector, PlannedWatch
from detectors.registry import KINDS, camera_detectors, declare_kinds
from detectors.violations.events import ViolationEvent
from detectors.violations.tracker import ViolationTracker

VIDEO_CHECK_S = 0.5  # how often the stream watches are asked while their answer may be changing
QUIET_CHECK_S = 5.0  # and while it is not, where an arming schedule may open or close a window
_TURN_MARGIN_S = 4 * VIDEO_CHECK_S  # past a turn and the alarm's dwell: its first samples and the thread's lateness


class CameraAnalysis:
    """Owns the detectors and violation trackers of one camera; called from one thread only.

    Which violation can be judged while which other holds comes from the kinds' `needs` and `spoils`: while
    the lens is covered nothing that needs the view is judged; while the camera points elsewhere, neither
    its route nor its focus.
    """

    def __init__(self, camera: CameraConfig, width: int | None = None, height: int | None = None) -> None:
        self.camera = camera
        declare_kinds([camera])  # the kinds its entries name (the service has declared them already)
        self.width, self.height = 0, 0
        self.planned: list[PlannedDetector] = []
        self.problems: list[str] = []  # detectors that cannot run (a model file that cannot be used), and why
        self._trackers: dict[tuple[str, str | None], ViolationTracker] = {}
        self._rules: dict[str, PlannedDetector | PlannedWatch] = {}
        self.watches: list[PlannedWatch] = [
            watch for plugin, settings in camera_detectors(camera) for watch in plugin.watches(settings, camera)
        ]
        self._watch_kinds = {kind for w in self.watches for kind in w.watch.kinds}
        self._rules.update({kind: w for w in self.watches for kind in w.watch.kinds})
        if width and height:
            self.set_picture(width, height)  # nothing runs yet, so nothing ends
        self.last_observations: list[Observation] = []
        self._video_checked_at = 0.0

    def set_picture(self, width: int, height: int, at: float = 0.0) -> list[ViolationEvent]:
        """(Re)build the frame detectors for a picture size; raises ZoneMismatch naming camera and zone.

        A new size ends what the old detectors had running: their references no longer apply.
        """
        if (width, height) == (self.width, self.height):
            return []
        planned: list[PlannedDetector] = []
        self.problems = []
        for plugin, settings in camera_detectors(self.camera):
            try:
                plans = plugin.plan(settings, self.camera, width, height)
            except ModelError as error:  # this detector cannot run; the camera's others do
                self.problems.append(f"camera {self.camera.id!r}, detector {settings.type}: {error}")
                continue
            taken = {kind for p in planned for kind in p.detector.kinds} | self._watch_kinds
            twice = sorted({kind for p in plans for kind in p.detector.kinds} & taken)
            if twice:  # one tracker per kind and zone: two detectors feeding it would fight
                self.problems.append(
                    f"camera {self.camera.id!r}, detector {settings.type}: {', '.join(twice)} already reported by "
                    "another detector of the camera"
                )
                continue
            planned += plans
        ended = [
            e
            for (k, _), t in list(self._trackers.items())
            if k not in self._watch_kinds and (e := t.finish(at, "picture size changed")) is not None
        ]
        self._trackers = {key: t for key, t in self._trackers.items() if key[0] in self._watch_kinds}
        self.planned = []
        self._rules = {kind: rule for kind, rule in self._rules.items() if kind in self._watch_kinds}
        for each in planned:
            self.add(each)
        self.width, self.height = width, height
        return ended

    def add(self, planned: PlannedDetector) -> None:
        """Run one more detector on this camera (one the configuration does not name)."""
        self.planned.append(planned)
        self._rules.update({kind: planned for kind in planned.detector.kinds})

    def without_zones(self) -> None:
        """Keep the detectors that need no zone when the zones cannot be used on this picture."""
        self.camera = self.camera.model_copy(update={"detectors": [d for d in self.camera.detectors if not d.zones]})

    @property
    def need(self) -> FrameNeed:
        """Key frames only if every detector is content with them, else the highest rate asked for."""
        fps = max((p.detector.need.fps for p in self.planned if not p.detector.need.key_frames_only), default=0.0)
        return FrameNeed(key_frames_only=fps == 0.0, fps=fps)

    def process(self, frame: AnalysisFrame) -> list[ViolationEvent]:
        # A model runs on this frame only if a detector asks, and once however many ask.
        source = frame
        models = SharedFrameModels(lambda: source.bgr(MODEL_WIDTH))
        frame = replace(frame, spoiled=self._spoiled_by_running(), models=models)
        observations: list[Observation] = []
        for planned in self.planned:
            observations += planned.detector.observe(frame)
        if any(o.new_view for o in observations):
            for planned in self.planned:
                if isinstance(planned.detector, Relearns):
                    planned.detector.view_changed()
        spoiled_now = {c for o in observations if o.active for c in _spoils(o.kind)}
        self.last_observations = observations
        events = []
        for observation in observations:
            if observation.active is not None and _needs(observation.kind) & spoiled_now:
                observation = replace(observation, active=None)
            event = self._tracker(observation.kind, observation.zone).update(observation)
            if event is not None:
                events.append(event)
        return events

    def packet_arrived(self, at: float) -> None:
        """A packet of video arrived at `at` (wall clock); the stream watches keep the time."""
        for watch in self.watches:
            watch.watch.packet(at)

    def check_video(self, now: float) -> list[ViolationEvent]:
        """Called on every tick of the pipeline, with or without frames; looks twice a second at most."""
        if not self.watches or now - self._video_checked_at < VIDEO_CHECK_S:
            return []
        self._video_checked_at = now
        events = []
        for watch in self.watches:
            observation = watch.watch.check(now)
            event = self._tracker(observation.kind, observation.zone).update(observation)
            if event is not None:
                events.append(event)
        return events

    def next_check_in(self, now: float) -> float | None:
        """How soon `check_video` must run again if no packet comes; None: not before one comes.

        Twice a second from a watch's turn (video loss: the silence allowed has passed) until its alarm has had
        the samples to start; a turn ahead is waited for. Otherwise nothing changes by time alone but an arming
        schedule's window opening or closing, looked for every `QUIET_CHECK_S`. Packets wake the pipeline
        anyway, and the alarm's end comes with them."""
        wait: float | None = None
        for planned in self.watches:
            if not planned.schedule.always:
                wait = QUIET_CHECK_S if wait is None else min(wait, QUIET_CHECK_S)
            turns = planned.watch.turns_at()
            if turns is None:
                continue
            if turns > now:
                until = turns - now
            elif now - turns <= planned.params.dwell_s + _TURN_MARGIN_S:
                until = VIDEO_CHECK_S
            else:
                continue
            wait = until if wait is None else min(wait, until)
        return wait

    def finish(self, at: float, reason: str = "stopped") -> list[ViolationEvent]:
        return [e for t in self._trackers.values() if (e := t.finish(at, reason)) is not None]

    def active_violations(self) -> list[str]:
        """The violations running now, as `kind` or `kind:zone`."""
        return sorted(f"{k}:{z}" if z else k for (k, z), t in list(self._trackers.items()) if t.active)

    def _spoiled_by_running(self) -> frozenset[str]:
        return frozenset(c for (kind, _), t in self._trackers.items() if t.active for c in _spoils(kind))

    def _tracker(self, kind: str, zone: str | None) -> ViolationTracker:
        tracker = self._trackers.get((kind, zone))
        if tracker is None:
            rule = self._rules[kind]
            tracker = ViolationTracker(kind, zone, rule.params, rule.schedule)
            self._trackers[(kind, zone)] = tracker
        return tracker


def _needs(kind: str) -> frozenset[str]:
    known = KINDS.get(kind)
    return known.needs if known else frozenset()


def _spoils(kind: str) -> frozenset[str]:
    known = KINDS.get(kind)
    return known.spoils if known else frozenset()
