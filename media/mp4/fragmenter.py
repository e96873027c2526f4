"""One camera session's packets as fragmented MP4: its initialisation segment, then `moof`+`mdat` fragments.

The recorder writes the fragments to a segment file, the live fMP4 view sends them to a browser's Media Source
Extensions: both copy the camera's frames, re-framed to length prefixes where they came as Annex B, and
nothing is decoded or encoded.
"""

from __future__ import annotations

from fractions import Fraction

from media.mp4.fragment import Sample, Track, fragment_header
from media.nal import is_length_prefixed, length_prefixed
from media.packet import MediaPacket, StreamInfo

Parts = list[bytes | memoryview]


class Fragmenter:
    """Collects frames into a fragment and closes it on a key frame or once it spans `fragment_s` (every
    frame when None). A frame's duration is only known when the next one arrives, so `add` returns the
    fragment the new packet closed, and `finish` the last one.

    Times start at zero with the session's first packet; the fragments use the timescale of the
    initialisation segment (rescaled from the camera's time base where they differ).
    """

    def __init__(self, info: StreamInfo, fragment_s: float | None) -> None:
        if info.mp4_init is None:
            raise ValueError(f"{info.codec} cannot be carried in MP4")
        self.init = info.mp4_init
        self.track = Track.of_init(info.mp4_init)  # ValueError for an init segment without a fragment track
        self._annexb = not is_length_prefixed(info.extradata)
        self._seconds = float(info.time_base)  # per tick; floats, not Fractions, in the per-packet path
        scale = info.time_base * self.track.timescale
        self._scale: Fraction | None = None if scale == 1 else scale
        self._fragment_ticks = max(1, int(fragment_s / self._seconds)) if fragment_s else 1
        self.keyframes: list[float] = []  # offsets from the first packet, in seconds
        self._base: int | None = None
        self._last_dts: int | None = None
        self._end = 0  # end of the last packet, in time_base units from _base
        self._frame = 0  # the last frame interval, for packets that carry no duration
        self._last_duration = 0
        self._sequence = 0
        # The fragment being filled: its frames' data in MP4's framing, in pieces to write in order, and
        # (dts, pts, key frame, size) of each frame.
        self._data: Parts = []
        self._times: list[tuple[int, int, bool, int]] = []

    @property
    def duration_s(self) -> float:
        return self._end * self._seconds

    @property
    def pending(self) -> bool:
        return bool(self._times)

    @property
    def fragment_due_s(self) -> float | None:
        """Seconds from the first packet at which the open fragment closes at the latest (on a key frame it
        closes sooner): the packet that closes it is the first one at or after this time. None while none is open."""
        if not self._times:
            return None
        return (self._times[0][0] + self._fragment_ticks) * self._seconds

    def step_s(self, packet: MediaPacket) -> float | None:
        """Seconds from the last packet taken to `packet` on the camera's clock (None for the first)."""
        dts = packet.dts if packet.dts is not None else packet.pts
        if dts is None or self._last_dts is None:
            return None
        return (dts - self._last_dts) * self._seconds

    def add(self, packet: MediaPacket) -> Parts:
        """Take `packet`; returns the parts of the fragment it closed, or [] when it joins the open one."""
        dts = packet.dts if packet.dts is not None else packet.pts
        pts = packet.pts if packet.pts is not None else dts
        if dts is None or pts is None:
            raise ValueError("a packet without timestamps cannot be placed in a fragment")
        if self._base is None:
            self._base = dts
        dts -= self._base
        pts -= self._base
        closed: Parts = []
        if self._times and (packet.keyframe or dts - self._times[0][0] >= self._fragment_ticks):
            closed = self._fragment(next_dts=dts)
        if self._last_dts is not None:
            self._frame = dts - (self._last_dts - self._base)
        self._last_dts = dts + self._base
        if packet.keyframe:
            self.keyframes.append(pts * self._seconds)
        self._last_duration = packet.duration or self._frame
        self._end = max(self._end, pts + self._last_duration)
        if self._annexb:
            parts, size = length_prefixed(packet.data)
            self._data += parts
        else:
            self._data.append(packet.data)
            size = len(packet.data)
        self._times.append((dts, pts, packet.keyframe, size))
        return closed

    def finish(self) -> Parts:
        """The open fragment, its last frame lasting as long as the one before; [] if none is open."""
        if not self._times:
            return []
        return self._fragment(next_dts=self._times[-1][0] + (self._last_duration or 1))

    def _fragment(self, next_dts: int) -> Parts:
        """Close the fragment being filled; `next_dts` ends its last frame."""
        times, data = self._times, self._data
        self._times, self._data = [], []
        ends = [t[0] for t in times[1:]] + [next_dts]
        scale = self._scale
        if scale is None:
            samples = [
                Sample(end - dts, size, key, pts - dts) for (dts, pts, key, size), end in zip(times, ends, strict=True)
            ]
            base = times[0][0]
        else:
            # Each time rescaled on its own, durations as differences: the rounding never accumulates.
            samples = []
            for (dts, pts, key, size), end in zip(times, ends, strict=True):
                start = round(dts * scale)
                samples.append(Sample(round(end * scale) - start, size, key, round(pts * scale) - start))
            base = round(times[0][0] * scale)
        self._sequence += 1
        return [fragment_header(self._sequence, self.track, base, samples), *data]
