"""One camera's detection consumer: a thread that decodes what the detectors need and runs them.

It reads the camera's hub through its own dropping subscription, so it can never hold up ingest,
recording or live view: when it falls behind, the hub drops packets for it (and it resumes on the next
key frame), and it skips frames that arrived too long ago. Both show in its status.

Where the camera names a `detect_source`, the hub it reads is the sub-stream's, while video loss is still
judged from the main stream (`main`): what is recorded and seen live is what can be lost, and a silent
sub-stream only leaves detection blind, which its status says (`no_video`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from core.config.models import CameraConfig
from detectors.frames.decoder import FrameDecoder
from detectors.frames.scaler import FrameScaler
from detectors.interface import AnalysisFrame, FrameNeed
from detectors.pipeline.analysis import CameraAnalysis
from detectors.pipeline.evidence import latest_key_frame_picture
from detectors.pipeline.status import PipelineStatus
from detectors.violations.events import ViolationEvent
from detectors.violations.recorder import ViolationRecorder
from detectors.zones import ZoneMismatch, on_detect_picture
from media.packet import MediaPacket, StreamInfo
from streams.camera import CameraStream
from streams.health import CameraState
from streams.items import PacketsDropped, StreamItem
from streams.worker import SubscriptionWorker

log = logging.getLogger(__name__)

_BATCH_PAUSE_S = 0.1
# How late packets may reach the detectors at all: the camera's connection may then be read in bursts this far
# apart (ingest.read_pause_s caps it) while no viewer watches. Nothing here judges over less than seconds.
_MAX_DELAY_S = 0.5

BEHIND_MEMORY_S = 60.0


class CameraPipeline(SubscriptionWorker):
    """Runs `CameraAnalysis` over a live camera stream in its own daemon thread."""

    # Packets are taken in batches, not one wake-up each: analysis a tenth of a second later changes nothing
    # for detectors that judge over seconds, and costs a fraction of the CPU.
    pause_s = _BATCH_PAUSE_S

    def __init__(
        self,
        camera: CameraConfig,
        stream: CameraStream,
        recorder: ViolationRecorder,
        *,
        max_lag_s: float = 2.0,
        analysis_factory: Callable[[CameraConfig], CameraAnalysis] = CameraAnalysis,
        queue_packets: int = 200,
        main: CameraStream | None = None,
    ) -> None:
        super().__init__(
            stream.hub,
            "detectors",
            capacity=queue_packets,
            thread_name=f"detect-{camera.id}",
            max_delay_s=_MAX_DELAY_S,
        )
        self.camera = camera
        self.stream = stream
        self.main = main  # the camera's main stream where `stream` is its sub-stream, else None
        self._stream_packet_at: float | None = None  # the latest packet of the main stream its health told of
        self._pending: StreamInfo | None = None  # a sub-stream session waiting for the main picture's size
        self.recorder = recorder
        self.max_lag_s = max_lag_s
        self.analysis = analysis_factory(camera)
        self._scaler = FrameScaler()
        self._decoder: FrameDecoder | None = None
        self._analysed = 0
        self._skipped = 0
        self._passed_over = 0
        self._dropped = 0
        self._behind_at: float | None = None
        self._last_ms = 0.0
        self._total_ms = 0.0
        self._next_frame_at = 0.0
        self.analysis.packet_arrived(time.time())  # a camera offline from the start counts as lost too

    def __repr__(self) -> str:
        return f"CameraPipeline({self.camera.id!r})"

    def status(self) -> PipelineStatus:
        analysed = self._analysed
        behind = self._behind_at is not None and time.time() - self._behind_at < BEHIND_MEMORY_S
        active = self.analysis.active_violations()
        return PipelineStatus(
            camera_id=self.camera.id,
            state=self._state(analysed),
            source="detect" if self.main is not None else "main",
            width=self.analysis.width or None,
            height=self.analysis.height or None,
            key_frames_only=self.analysis.need.key_frames_only,
            detectors=[kind for p in self.analysis.planned for kind in p.detector.kinds],
            frames_analysed=analysed,
            frames_skipped=self._skipped,
            key_frames_passed_over=self._passed_over,
            analysis_interval_s=self.camera.analysis_interval_s,
            packets_dropped=self._dropped,
            behind=behind,
            last_analysis_ms=round(self._last_ms, 2),
            mean_analysis_ms=round(self._total_ms / analysed, 2) if analysed else 0.0,
            error=self.error,
            active=active,
        )

    def _state(self, analysed: int) -> str:
        if self.error:
            return "error"
        if not self.running:
            return "stopped"
        state = self.stream.health.snapshot().state
        if state in (CameraState.OFFLINE, CameraState.STALLED) or (state is CameraState.CONNECTING and analysed):
            return "no_video"  # the stream it analyses sends nothing: nothing is being detected
        return "running" if analysed else "waiting"

    # --- the thread ---------------------------------------------------------------------------

    def handle(self, items: list[StreamItem], fetched_at: float) -> None:
        self._note_video(items, fetched_at)
        for item in items:
            now = time.time()
            if isinstance(item, MediaPacket):
                self._packet(item, now)
            elif isinstance(item, StreamInfo):
                self._begin(item)
            elif isinstance(item, PacketsDropped):
                self._dropped += item.count
                self._fell_behind(now, f"the hub dropped {item.count} packets")

    def idle(self, now: float) -> None:
        self._note_stream_video()
        if self.main is not None and self._pending is not None:
            self._begin(self._pending)
        # Judged as of the fetch, not after the analysis: a slow batch here is not a silent camera.
        self._emit(self.analysis.check_video(now), None)

    def idle_in(self, now: float) -> float | None:
        if self.main is not None:
            return self.poll_s  # the main stream's packets are seen only by looking at its health
        return self.analysis.next_check_in(now)

    def failed(self, error: Exception) -> None:
        # A broken analysis must not pass unnoticed, nor take anything else down.
        log.error("camera %s: detection stopped", self.camera.id, exc_info=error)
        self.error = f"detection stopped: {error}"

    def finished(self) -> None:
        self._emit(self.analysis.finish(time.time(), "analysis stopped"), None)

    def _begin(self, info: StreamInfo) -> None:
        now = time.time()
        self._pending = None
        if self.main is not None and not self._zones_on_sub_stream(info):
            self._pending = info  # packets meanwhile are not decoded: the decoder comes with the detectors
            self._decoder = None
            return
        try:
            self._emit(self.analysis.set_picture(info.width, info.height, now), None)
        except ZoneMismatch as error:
            self.error = str(error)
            log.error("%s", error)
            self.analysis.without_zones()
            self._emit(self.analysis.set_picture(info.width, info.height, now), None)
        if self.analysis.problems:
            self.error = "; ".join(self.analysis.problems)
            for problem in self.analysis.problems:
                log.error("%s", problem)
        try:
            self._decoder = FrameDecoder(info, key_frames_only=self.analysis.need.key_frames_only)
            self.subscription.key_frames_only = self._decoder.key_frames_only
        except Exception as error:
            self._decoder = None
            self.error = f"camera {self.camera.id!r}: cannot decode {info.codec}: {error}"
            log.error("%s", self.error)

    def _zones_on_sub_stream(self, info: StreamInfo) -> bool:
        """Fit the camera's zones to the sub-stream's picture; False while the main picture's size, which a zone's
        `drawn_on` may name, is not known yet."""
        assert self.main is not None
        try:
            camera = on_detect_picture(self.camera, (info.width, info.height), self.main.health.picture_size)
        except ZoneMismatch as error:
            self.error = str(error)
            log.error("%s", error)
            camera = self.camera.model_copy(update={"detectors": [d for d in self.camera.detectors if not d.zones]})
        if camera is None:
            return False
        self.analysis.camera = camera
        return True

    def _note_stream_video(self) -> None:
        """Video loss from the main stream's packets, read off its health: this thread reads the sub-stream, or
        only the key frames of the main stream."""
        at = (self.main or self.stream).health.last_packet_at
        if at is not None and at != self._stream_packet_at:
            self._stream_packet_at = at
            self.analysis.packet_arrived(at)

    def _note_video(self, items: list[StreamItem], fetched_at: float) -> None:
        if not self.analysis.watches or self.main is not None:
            return
        for item in items:
            if isinstance(item, MediaPacket):
                self.analysis.packet_arrived(item.received_at)
            elif isinstance(item, PacketsDropped):
                self.analysis.packet_arrived(fetched_at)  # packets were dropped because video kept coming

    def _packet(self, packet: MediaPacket, now: float) -> None:
        decoder = self._decoder
        if decoder is None or not self.analysis.planned or (decoder.key_frames_only and not packet.keyframe):
            return  # nothing to decode for: no frame detector runs on this camera (video loss needs no frames)
        if decoder.key_frames_only and packet.received_at < self._next_frame_at:
            self._passed_over += 1
            return  # within the camera's analysis interval: never decoded
        if now - packet.received_at > self.max_lag_s:
            self._skipped += 1
            self._fell_behind(now, f"a frame {now - packet.received_at:.1f} s old was skipped")
            return
        for frame in decoder.decode(packet):
            need = self.analysis.need
            if not need.key_frames_only and packet.received_at < self._next_frame_at:
                continue
            self._next_frame_at = packet.received_at + self._spacing(need)
            started = time.perf_counter()
            analysed = self._scaler.scale(frame, packet.received_at)
            events = self.analysis.process(analysed)
            self._last_ms = (time.perf_counter() - started) * 1000
            self._total_ms += self._last_ms
            self._analysed += 1
            self._emit(events, analysed)

    def _spacing(self, need: FrameNeed) -> float:
        """How long after an analysed frame the next is due."""
        if not need.key_frames_only:
            return 1.0 / need.fps if need.fps else 0.0
        interval = self.camera.analysis_interval_s
        # Key frames arrive with some jitter: one a little early must not put the next look off by a whole GOP.
        return interval - min(0.5, interval / 4)

    def _fell_behind(self, now: float, why: str) -> None:
        if self._behind_at is None or now - self._behind_at > BEHIND_MEMORY_S:
            log.warning("camera %s: detection fell behind (%s); skipping frames", self.camera.id, why)
        self._behind_at = now

    def _emit(self, events: list[ViolationEvent], frame: AnalysisFrame | None) -> None:
        for event in events:
            self.recorder.record(self.camera, event, self._evidence(event, frame))

    def _evidence(self, event: ViolationEvent, frame: AnalysisFrame | None) -> AnalysisFrame | None:
        """The picture a starting violation's snapshot is taken from: the main stream's latest key frame decoded in
        full, where it already shows the violation and the frame the detectors judged is not that picture (it came
        from the sub-stream, or from a decoder that skips the deblocking filter): one decode per violation. Else
        the frame the detectors judged."""
        if frame is None or event.phase != "started":
            return frame
        if self.main is not None:
            return latest_key_frame_picture(self.main.hub, since=event.onset) or frame
        if self._decoder is None or self._decoder.full_quality:
            return frame
        return latest_key_frame_picture(self.stream.hub, since=event.onset) or frame
