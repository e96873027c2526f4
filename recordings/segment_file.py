"""Reading segment files back: their box structure, and what they hold.

A fragmented MP4 is `ftyp`, `moov`, then (`moof`, `mdat`) pairs. A process killed mid-write leaves at worst
one incomplete pair at the end; cutting the file back to the last complete pair leaves a file every player
reads to its end.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import av


@dataclass(frozen=True, slots=True)
class Layout:
    init_size: int  # bytes of ftyp + moov
    complete_size: int  # bytes up to the end of the last complete moof+mdat pair (or of moov)
    fragments: int
    file_size: int


def read_layout(path: Path) -> Layout | None:
    """The box layout of a fragmented MP4, or None if the file does not start with ftyp and moov."""
    size = path.stat().st_size
    init_size = 0
    complete = 0
    fragments = 0
    pending_moof = False
    with path.open("rb") as handle:
        offset = 0
        while offset + 8 <= size:
            handle.seek(offset)
            header = handle.read(16)
            box_size, kind = struct.unpack(">I4s", header[:8])
            if box_size == 1 and len(header) >= 16:
                box_size = struct.unpack(">Q", header[8:16])[0]
            elif box_size == 0:
                box_size = size - offset  # "to the end of the file"
            if box_size < 8 or offset + box_size > size:
                break  # the box being written when the process died
            offset += box_size
            if kind == b"moov":
                init_size = offset
                complete = offset
            elif kind == b"moof":
                pending_moof = True
            elif kind == b"mdat" and pending_moof:
                pending_moof = False
                fragments += 1
                complete = offset
            elif kind in (b"mfra", b"free", b"skip") and not pending_moof:
                complete = offset
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
            tb = float(stream.time_base)
            first = last = None
            last_duration = 0
            keyframes = []
            packets = 0
            for packet in container.demux(stream):
                if packet.dts is None or packet.size == 0:
                    continue
                ts = packet.pts if packet.pts is not None else packet.dts
                first = ts if first is None else first
                last = ts if last is None else max(last, ts)
                last_duration = packet.duration or last_duration
                if packet.is_keyframe:
                    keyframes.append((ts - first) * tb)
                packets += 1
            if first is None:
                return None
            ctx = stream.codec_context
            return Contents(ctx.name, ctx.width, ctx.height, (last - first + last_duration) * tb,
                            tuple(keyframes), packets, bytes(ctx.extradata or b""))
    except (av.FFmpegError, OSError):
        return None
