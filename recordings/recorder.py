"""Continuous recording of one camera: its packets copied into segments, every interruption a gap."""

from __future__ import annotations

import logging
import time
from collections.abc import Hashable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from core.config import CameraConfig, Config
from core.store.recordings import NewSegment, RecordingRepository
from media.mp4.file import read_contents, truncate_incomplete
from media.packet import MediaPacket, StreamInfo
from media.segment_path import segment_path
from recordings.index_writer import IndexWriter, SegmentRow
from recordings.writer import SegmentWriteError, SegmentWriter, params_digest
from streams.camera import CameraStream
from streams.hub import Hub
from streams.items import PacketsDropped, StreamEnded, StreamItem
from streams.worker import SubscriptionWorker

log = logging.getLogger(__name__)

_INDEX_EVERY_S = 5.0  # how often the open segment's row follows the file
_RETRY_AFTER_S = 5.0  # after a write error, the wait before a new segment is tried
_REANCHOR_S = 2.0  # camera clock this far from ours: take ours again
_MAX_BATCH_PAUSE_S = 1.0
_WAKE_MARGIN_S = 0.05  # beyond the reader's rest, for the packet's way through the hub and the thread's wake-up
_STALL_S = 2.0  # a longer pause between two frames of a connection is a gap, not a slow frame
_SAME_INSTANT_S = 0.001  # two times of one frame computed two ways (start + duration, offset + dts) differ by less


@dataclass(frozen=True, slots=True)
class RecorderStatus:
    """What the recorder of one camera is doing, for health and the API."""

    state: str  # recording | waiting (for video or a key frame) | failing (cannot write) | stopped
    segment: str | None
    segment_started_at: float | None
    segments_written: int
    bytes_received: int
    bytes_written: int
    packets_dropped: int
    last_error: str | None
    last_error_at: float | None
    # The process's changes to the recordings index not yet written, and why while the database refuses them: the
    # video is on disk meanwhile, but playback and export find it only once its rows are written.
    index_pending: int = 0
    index_error: str | None = None


@dataclass
class _Open:
    writer: SegmentWriter
    row: SegmentRow
    start_ts: float
    params: str
    indexed_at: float
    gap_closed: bool = False


class Recorder(SubscriptionWorker):
    """Reads one camera's hub in its own thread and writes segments; the camera never waits for it.

    Its queue is deep (several seconds at 25 fps), so a brief disk stall loses no video. Its changes to the index
    go through the process's `IndexWriter`: it never waits for the database either.
    """

    def __init__(
        self,
        camera_id: str,
        hub: Hub,
        index: IndexWriter,
        directory: Path,
        segment_s: float,
        fragment_s: float,
        queue_packets: int = 750,
        reader_rest_s: float = 0.0,
    ) -> None:
        """`reader_rest_s`: the longest the camera's reader rests between reads (`ingest.read_pause_s`): a packet
        may reach the hub that long after its time."""
        # Nothing reaches the disk before a fragment closes, so while a segment is open the recorder wakes once per
        # fragment (at most a second) and takes its packets in one batch: 32 cameras' recording cost 1.10-1.15 x
        # ffmpeg's CPU so, 1.18-1.21 x waking every 200 ms (docs/performance.md, "Recording"). It wakes when the
        # packet that closes the fragment should have come (the fragment's end on the camera's clock, plus the
        # reader's rest), not a fixed pause after its last batch, which could fall just before that packet and
        # leave the fragment unwritten for another pause: a kill loses at most the fragment being filled, the
        # reader's rest and a scheduling margin. Packets may reach it a pause late: the camera's connection may be
        # read in bursts up to that far apart.
        batch_pause_s = min(fragment_s, _MAX_BATCH_PAUSE_S)
        super().__init__(
            hub,
            "recorder",
            capacity=queue_packets,
            thread_name=f"recorder-{camera_id}",
            max_delay_s=batch_pause_s,
        )
        self.camera_id = camera_id
        self._index_writer = index
        self._directory = directory
        self._segment_s = segment_s
        self._fragment_s = fragment_s
        self._batch_pause_s = batch_pause_s
        self._closing_late_s = reader_rest_s + _WAKE_MARGIN_S
        self._info: StreamInfo | None = None
        # Our clock minus the camera's, for this connection: a packet's time is offset + its dts in seconds.
        self._offset: float | None = None
        self._previous_end: float | None = None  # end of this connection's last closed segment
        self._tick = 1 / 90000  # seconds per camera timestamp unit; Fractions are too slow for every packet
        self._open: _Open | None = None
        self._retry_at = 0.0
        self._last_end: float | None = None  # where the last closed segment ended
        self._status = RecorderStatus("waiting", None, None, 0, 0, 0, 0, None, None)
        self._written_closed = 0
        self._bytes_received = 0  # counters kept apart from the status: updated for every packet
        self._packets_dropped = 0

    def __repr__(self) -> str:
        return f"Recorder({self.camera_id!r})"

    @property
    def index_writer(self) -> IndexWriter:
        return self._index_writer

    @property
    def pause_s(self) -> float:  # type: ignore[override]
        """The rest after a batch: none while waiting for a key frame to start a segment on, so it starts on the
        first one; while writing, until the packet closing the open fragment should have come; a whole pause
        during the wait after a write error (a full disk wakes no one)."""
        current = self._open
        if current is None:
            return 0.0 if time.monotonic() >= self._retry_at else self._batch_pause_s
        writer = current.writer
        if self._previous_end is None and writer.size() <= writer.init_size:
            # The connection's first fragment: its first packets come in a burst (the probe read ahead), and when
            # the fragment is due on our clock settles only as the steady ones come. They are taken as they come.
            return 0.0
        due = writer.fragment_due_s
        if due is None:
            return self._batch_pause_s
        # Past it and the packet not yet here: no rest, the next packet wakes the recorder.
        closes_at = current.start_ts + due + self._closing_late_s
        return min(self._batch_pause_s, max(0.0, closes_at - time.time()))

    def status(self) -> RecorderStatus:
        status = self._status
        current = self._open
        written = self._written_closed + (current.writer.size() if current else 0)
        index = self._index_writer
        return replace(
            status,
            bytes_written=written,
            bytes_received=self._bytes_received,
            packets_dropped=self._packets_dropped,
            index_pending=index.pending,
            index_error=index.last_error,
        )

    # --- the recorder thread ------------------------------------------------------------------

    def handle(self, items: list[StreamItem], fetched_at: float) -> None:
        for item in items:
            self._handle(item)

    def idle(self, now: float) -> None:
        if self._open is not None and time.monotonic() - self._open.indexed_at >= _INDEX_EVERY_S:
            self._index(self._open)

    def idle_in(self, now: float) -> float | None:
        if self._open is None:
            return None  # nothing to index: a camera offline wakes nothing
        return max(0.0, _INDEX_EVERY_S - (time.monotonic() - self._open.indexed_at))

    def closed(self, reason: str) -> None:
        self._interrupt("recorder detached: it fell too far behind")

    def failed(self, error: Exception) -> None:
        log.error("camera %s: recorder failed", self.camera_id, exc_info=error)
        self._interrupt("recorder failed; see the log")

    def finished(self) -> None:
        self._interrupt("recording stopped")
        self._set(state="stopped", segment=None, segment_started_at=None)

    def _handle(self, item: StreamItem) -> None:
        if isinstance(item, MediaPacket):
            self._packet(item)
        elif isinstance(item, StreamInfo):
            self._finish()
            self._info = item
            self._tick = float(item.time_base)
            self._offset = None
            self._previous_end = None
        elif isinstance(item, StreamEnded):
            self._interrupt("recording stopped" if item.reason == "stopped" else f"camera: {item.reason}")
        elif isinstance(item, PacketsDropped):
            self._packets_dropped += item.count
            self._interrupt(f"recorder fell behind: {item.count} packets dropped")

    def _packet(self, packet: MediaPacket) -> None:
        self._bytes_received += len(packet.data)
        self._follow_clock(packet)
        current = self._open
        if current is not None:
            step = current.writer.step_s(packet)
            if step is not None and step > _STALL_S:
                # The connection stayed up but no video came (a stall shorter than the watchdog): a gap.
                self._interrupt(f"camera stalled: no video for {step:.1f} s")
                current = None
            elif (step is not None and step <= 0) or (packet.keyframe and current.writer.duration_s >= self._segment_s):
                self._finish()  # the segment is long enough, or the camera's clock went back: a new one
                current = None
        if current is None:
            if not packet.keyframe or self._info is None or time.monotonic() < self._retry_at:
                return
            current = self._begin(packet)
            if current is None:
                return
        try:
            current.writer.write(packet)
        except SegmentWriteError as error:
            self._fail(str(error))

    def _follow_clock(self, packet: MediaPacket) -> None:
        """Keep `offset` at the earliest our clock allows: a packet is never stamped after it arrived.

        The first packets of a connection come in a burst (FFmpeg reads ahead while probing the stream), so
        stamping by arrival would put the start late and every later frame in the future; the first steady
        packets reveal by how much, and the open segment moves back (never over the previous one).
        """
        dts = packet.dts if packet.dts is not None else packet.pts
        assert dts is not None
        candidate = packet.received_at - dts * self._tick
        if self._offset is None:
            self._offset = candidate
        elif candidate < self._offset - 0.02:
            shift = self._offset - candidate
            self._offset = candidate
            current = self._open
            if current is not None:
                floor = self._previous_end if self._previous_end is not None else -1.0
                current.start_ts = max(current.start_ts - shift, floor)

    def _wall_time(self, packet: MediaPacket) -> float:
        """Our clock's time of `packet`: on the camera's clock since the connection began (smooth, gapless),
        unless the two clocks have drifted apart by more than a couple of seconds (then ours wins)."""
        dts = packet.dts if packet.dts is not None else packet.pts
        assert dts is not None and self._offset is not None
        wall = self._offset + dts * self._tick
        if wall < packet.received_at - _REANCHOR_S:
            self._offset = packet.received_at - dts * self._tick
            return packet.received_at
        return wall

    def _begin(self, packet: MediaPacket) -> _Open | None:
        info = self._info
        assert info is not None
        start_ts = self._wall_time(packet)
        if self._last_end is not None and start_ts < self._last_end - _SAME_INSTANT_S:
            # The camera's clock went back (it restarted, or wrapped) within the connection: from here on ours
            # is the reference, and the new segment starts after the last one, never on top of it.
            dts = packet.dts if packet.dts is not None else packet.pts
            self._offset = packet.received_at - (dts or 0) * self._tick
            start_ts = max(packet.received_at, self._last_end + 0.001)
        elif self._last_end is not None and start_ts < self._last_end:
            # A cut within the connection: this frame begins where the last segment's last frame ended, but for
            # the rounding of two sums. Its arrival time plays no part (a frame read out of a burst arrives late).
            start_ts = self._last_end
        relative = segment_path(self.camera_id, start_ts)
        try:
            writer = SegmentWriter(self._directory / relative, info, self._fragment_s)
        except SegmentWriteError as error:
            self._fail(str(error))
            return None
        params = params_digest(info)
        row = self._index_writer.open_segment(
            NewSegment(
                self.camera_id,
                relative,
                start_ts,
                0,
                info.codec,
                info.width,
                info.height,
                params,
            )
        )
        # The row (and the end of the gap before it) follow a second later, once the start has settled.
        self._open = _Open(writer, row, start_ts, params, time.monotonic() - _INDEX_EVERY_S + 1.0)
        self._set(state="recording", segment=relative, segment_started_at=start_ts)
        return self._open

    def _index(self, current: _Open, closed: bool = False) -> None:
        if not current.gap_closed:
            self._index_writer.close_gap(self.camera_id, current.start_ts)
            current.gap_closed = True
        writer = current.writer
        self._index_writer.update_segment(
            current.row,
            current.start_ts + writer.duration_s,
            writer.size(),
            writer.keyframes,
            init_size=writer.init_size,
            closed=closed,
            start_ts=current.start_ts,
        )
        current.indexed_at = time.monotonic()

    def _finish(self) -> float | None:
        """Close the open segment; returns where it ended."""
        current = self._open
        if current is None:
            return None
        try:
            current.writer.close()
        except SegmentWriteError as failure:
            self._fail(str(failure))  # cuts the torn tail off, closes the row and opens the gap
            return None
        self._open = None
        end = current.start_ts + current.writer.duration_s
        self._last_end = self._previous_end = end
        self._index(current, closed=True)
        self._written_closed += current.writer.size()
        self._set(segments_written=self._status.segments_written + 1, segment=None, segment_started_at=None)
        return end

    def _interrupt(self, cause: str) -> None:
        """Video stops here for `cause`: close the segment and open a gap, which the next segment closes."""
        end = self._finish()
        if end is not None:
            self._index_writer.open_gap(self.camera_id, end, cause)
        if self._status.state == "recording":
            self._set(state="waiting")

    def _fail(self, error: str) -> None:
        """Writing failed: keep what reached the disk playable, open a gap, try again in a while."""
        ended_at = None
        current, self._open = self._open, None
        if current is not None:
            try:
                current.writer.close()
            except SegmentWriteError:
                pass
            # What reached the disk ends in a torn fragment: cut it off so the file plays to its end.
            layout = truncate_incomplete(current.writer.path) if current.writer.path.exists() else None
            if layout is None or layout.fragments == 0:
                current.writer.path.unlink(missing_ok=True)
                self._index_writer.delete_segment(current.row)
                ended_at = self._last_end
            else:
                contents = read_contents(current.writer.path)
                kept = contents.duration_s if contents else 0.0
                ended_at = current.start_ts + kept
                self._index_writer.update_segment(
                    current.row,
                    ended_at,
                    layout.file_size,
                    contents.keyframes if contents else (),
                    layout.init_size,
                    closed=True,
                    start_ts=current.start_ts,
                )
                if not current.gap_closed:
                    self._index_writer.close_gap(self.camera_id, current.start_ts)
        ended_at = ended_at if ended_at is not None else self._last_end  # a new segment could not even open
        if ended_at is not None:
            self._index_writer.open_gap(self.camera_id, ended_at, f"cannot write: {error}")
        if self._status.last_error != error or self._status.state != "failing":
            log.error("camera %s: recording paused: %s", self.camera_id, error)
        self._retry_at = time.monotonic() + _RETRY_AFTER_S
        self._set(state="failing", last_error=error, last_error_at=time.time(), segment=None, segment_started_at=None)

    def _set(self, **changes: Any) -> None:
        self._status = replace(self._status, **changes)


class RecorderFactory:
    """Attaches a recorder to every camera stream the supervisor starts (where recording is on); their changes
    to the index share one `IndexWriter`."""

    name = "recorder"

    def __init__(self, config: Config, repository: RecordingRepository) -> None:
        self._config = config
        self.index = IndexWriter(repository)
        self._recorders: dict[str, Recorder] = {}

    def reconfigure(self, config: Config) -> None:
        self._config = config

    def key(self, camera: CameraConfig) -> Hashable:
        recording = self._config.recording
        return (camera.record and recording.enabled, recording.segment_s, recording.fragment_s)

    def attach(self, camera: CameraConfig, stream: CameraStream) -> Recorder | None:
        recording = self._config.recording
        if not (camera.record and recording.enabled):
            self._recorders.pop(camera.id, None)
            return None
        recorder = Recorder(
            camera.id,
            stream.hub,
            self.index,
            self._config.recordings_dir,
            recording.segment_s,
            recording.fragment_s,
            queue_packets=max(stream.hub.default_capacity, 750),
            reader_rest_s=self._config.ingest.read_pause_s,
        )
        recorder.start()
        self._recorders[camera.id] = recorder
        return recorder

    def status(self, camera_id: str) -> RecorderStatus | None:
        recorder = self._recorders.get(camera_id)
        return recorder.status() if recorder else None

    def close(self, timeout: float = 10.0) -> None:
        """After the recorders have stopped: their last changes to the index are written."""
        self.index.stop(timeout)
