"""Fragmented MP4 files read back: their box structure, the repair of a torn tail, and what they hold.

A fragmented MP4 is `ftyp`, `moov`, then (`moof`, `mdat`) pairs. A process killed mid-write leaves at worst
one incomplete pair at the end; cutting the file back to the last complete pair leaves a file every player
reads to its end.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av

from media.mp4.boxes import file_boxes


@dataclass(frozen=True, slots=True)
class Layout:
    init_size: int  # bytes of ftyp + moov
    complete_size: int  # bytes up to the end of the last complete moof+mdat pair (or of moov)
    fragments: int
    file_size: int


def read_layout(path: Path) -> Layout | None:
    """The box layout of a fragmented MP4, or None if the file does not start with ftyp and moov."""
    size = path.stat().st_size
    init_size = complete = fragments = 0
    pending_moof = False
    with path.open("rb") as handle:
        for box in file_boxes(handle, size):
            if box.kind == b"moov":
                init_size = complete = box.end
            elif box.kind == b"moof":
                pending_moof = True
            elif box.kind == b"mdat" and pending_moof:
                pending_moof = False
                fragments += 1
                complete = box.end
            elif box.kind in (b"mfra", b"free", b"skip") and not pending_moof:
                complete = box.end
    if init_size == 0:
        return None
    return Layout(init_size, complete, fragments, size)


def truncate_incomplete(path: Path) -> Layout | None:
    """Cut a torn tail off a segment; returns its layout after the cut."""
    layout = read_layout(path)
    if layout is not None and layout.complete_size < layout.file_size:
        with path.open("r+b") as handle:
            handle.truncate(layout.complete_size)
        layout = Layout(layout.init_size, layout.complete_size, layout.fragments, layout.complete_size)
    return layout


@dataclass(frozen=True, slots=True)
class Contents:
    codec: str
    width: int
    height: int
    duration_s: float
    keyframes: tuple[float, ...]  # offsets from the first packet
    packets: int
    extradata: bytes


def read_contents(path: Path) -> Contents | None:
    """Demux (not decode) a segment: its codec, duration and key frames; None if it holds no video."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            tb = float(stream.time_base or 0)
            first: int | None = None
            last = 0
            last_duration = 0
            keyframes = []
            packets = 0
            for packet in container.demux(stream):
                if packet.dts is None or packet.size == 0:
                    continue
                ts = packet.pts if packet.pts is not None else packet.dts
                if first is None:
                    first = last = ts
                last = max(last, ts)
                last_duration = packet.duration or last_duration
                if packet.is_keyframe:
                    keyframes.append((ts - first) * tb)
                packets += 1
            if first is None:
                return None
            ctx = stream.codec_context
            return Contents(
                ctx.name,
                ctx.width,
                ctx.height,
                (last - first + last_duration) * tb,
                tuple(keyframes),
                packets,
                bytes(ctx.extradata or b""),
            )
    except (av.FFmpegError, OSError):
        return None
