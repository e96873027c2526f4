"""Recorded video for a platform (Playback and Download): a range of a camera's segments, demuxed without
decoding and sent as PS over RTP, paced at `speed` × real time. The platform pauses, resumes, seeks (`npt`) and
changes the speed (`Scale`) through INFO; at the end `ended` is told, for the MediaStatus 121 notification."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import av

from core.store.recordings import Segment
from uplink.gb28181.media.channel import ChannelClosed, RtpChannel
from uplink.gb28181.media.sender import PsRtpSender, UnsupportedCodec

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
END_OF_RECORDING = "end of the recording"


class _Seek(Exception):
    """The platform asked for another position; reading starts again there."""


class RecordedMedia:
    def __init__(
        self,
        directory: Path,
        segments: Sequence[Segment],
        start_ts: float,
        stop_ts: float,
        channel: RtpChannel,
        ssrc: int,
        payload_type: int,
        speed: float,
        ended: Callable[[str], None],
        name: str,
    ) -> None:
        self._directory = directory
        self._segments = sorted(segments, key=lambda s: s.start_ts)
        self.start_ts = start_ts
        self.stop_ts = stop_ts
        self.sender = PsRtpSender(channel, ssrc, payload_type)
        self._ended = ended
        self._lock = threading.Condition()
        self._stopping = False
        self._paused = False
        self._seek_to: float | None = None
        self._speed = speed
        self._base: tuple[float, float] | None = None  # (monotonic, media time) the pacing counts from
        self.position = start_ts  # media time of the last frame sent
        self._thread = threading.Thread(target=self._run, name=f"gb-playback-{name}", daemon=True)

    # --- control, from the event loop -------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def pause(self) -> None:
        with self._lock:
            self._paused = True
            self._lock.notify_all()

    def play(self, npt: float | None = None, scale: float | None = None) -> None:
        """Resume; `npt`: seconds from the range's start to go to; `scale`: the new speed."""
        with self._lock:
            if npt is not None:
                self._seek_to = min(max(self.start_ts + npt, self.start_ts), self.stop_ts)
            if scale is not None and scale > 0:
                self._speed = scale
            self._paused = False
            self._base = None  # pacing starts again from the next frame
            self._lock.notify_all()

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def paused(self) -> bool:
        return self._paused

    # --- the thread -------------------------------------------------------------------------------

    def _run(self) -> None:
        reason = END_OF_RECORDING
        try:
            self.sender.channel.connect(CONNECT_TIMEOUT_S)
            at = self.start_ts
            while not self._stopping:
                try:
                    self._play_from(at)
                    break
                except _Seek:
                    with self._lock:
                        at, self._seek_to = (at if self._seek_to is None else self._seek_to), None
        except (ChannelClosed, UnsupportedCodec) as error:
            reason = str(error)
        except Exception as error:
            log.exception("playback failed")
            reason = f"{type(error).__name__}: {error}"
        finally:
            self.sender.channel.close()
        if not self._stopping:
            self._ended(reason)

    def _play_from(self, at: float) -> None:
        first = True
        for segment in self._segments:
            if segment.end_ts <= at or segment.start_ts >= self.stop_ts:
                continue
            start = segment.keyframe_at_or_before(at) if first else segment.start_ts
            first = False
            with av.open(str(self._directory / segment.path)) as source:
                stream = source.streams.video[0]
                self.sender.begin(stream.codec_context.name, bytes(stream.codec_context.extradata or b""))
                time_base = stream.time_base
                if time_base is None:
                    continue
                first_pts = None
                started = False
                for packet in source.demux(stream):
                    if packet.size == 0 or packet.dts is None:
                        continue
                    pts = packet.pts if packet.pts is not None else packet.dts
                    first_pts = pts if first_pts is None else first_pts
                    packet_at = segment.start_ts + float((pts - first_pts) * time_base)
                    if not started and (packet_at < start - 1e-3 or not packet.is_keyframe):
                        continue
                    started = True
                    if packet_at >= self.stop_ts:
                        return
                    self._wait_until(packet_at)
                    timestamp = round((packet_at - self.start_ts) * 90000)
                    self.sender.frame(memoryview(packet), packet.is_keyframe, timestamp)
                    self.position = packet_at

    def _wait_until(self, packet_at: float) -> None:
        """Paces the frame at `packet_at`; raises _Seek where the platform asked for another position."""
        with self._lock:
            while True:
                if self._stopping:
                    raise _Seek  # unwinds; _run sees the stop
                if self._seek_to is not None:
                    raise _Seek
                if self._paused:
                    self._lock.wait(0.5)
                    continue
                now = time.monotonic()
                if self._base is None:
                    self._base = (now, packet_at)
                due = self._base[0] + (packet_at - self._base[1]) / self._speed
                if due <= now:
                    return
                self._lock.wait(due - now)
