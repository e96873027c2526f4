"""Fragmented MP4 files read back: their box structure, the repair of a torn tail, and what they hold.

A fragmented MP4 is `ftyp`, `moov`, then (`moof`, `mdat`) pairs. A process killed mid-write leaves at worst
one incomplete pair at the end; cutting the file back to the last complete pair leaves a file every player
reads to its end.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av

from media.mp4.boxes import Box, boxes, descend, file_boxes


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
    """Its codec, duration and key frames; None if it holds no video.

    Read from the boxes alone (the `moov` and each `moof`, never the frames) for the single-track fragmented
    files the recorder writes: after a worker or the service was killed, every camera's open segment is read
    back before it records again, and demuxing each (FFmpeg probes a few frames by decoding them) cost seconds
    of CPU for a few dozen cameras on a loaded box. Any other layout is demuxed by FFmpeg."""
    try:
        with path.open("rb") as handle:
            return _contents_of_boxes(handle, path.stat().st_size)
    except (_NotFragmented, struct.error):
        return _demuxed_contents(path)
    except OSError:
        return None


class _NotFragmented(Exception):
    """Not the layout `_contents_of_boxes` reads: one video track, its samples all in fragments."""


_CODECS = {b"avc1": "h264", b"avc3": "h264", b"hvc1": "hevc", b"hev1": "hevc"}
_NON_SYNC_SAMPLE = 0x00010000  # sample_is_non_sync_sample in the sample flags (ISO/IEC 14496-12, 8.8.3.1)


@dataclass(slots=True)
class _Track:
    codec: str
    width: int
    height: int
    extradata: bytes
    timescale: int
    track_id: int
    default_duration: int  # from `trex`
    default_flags: int


def _contents_of_boxes(handle: BinaryIO, size: int) -> Contents | None:
    track: _Track | None = None
    dts = 0
    first: int | None = None
    last = last_duration = 0
    keyframes: list[int] = []
    samples = 0
    for box in file_boxes(handle, size):
        if box.kind == b"moov":
            track = _track(_read(handle, box))
        elif box.kind == b"moof":
            if track is None:
                raise _NotFragmented("a fragment before the movie header")
            fragment, dts = _fragment_samples(_read(handle, box), track, dts)
            for pts, duration, key in fragment:
                if first is None:
                    first = last = pts
                last = max(last, pts)
                last_duration = duration or last_duration
                if key:
                    keyframes.append(pts)
                samples += 1
    if track is None:
        raise _NotFragmented("no movie header")
    if first is None:
        return None
    tick = 1.0 / track.timescale
    return Contents(
        track.codec,
        track.width,
        track.height,
        (last - first + last_duration) * tick,
        tuple((k - first) * tick for k in keyframes),
        samples,
        track.extradata,
    )


def _read(handle: BinaryIO, box: Box) -> memoryview:
    handle.seek(box.offset)
    data = handle.read(box.size)
    if len(data) < box.size:
        raise OSError(f"{box.kind!r} box cut short")
    return memoryview(data)


def _track(moov: memoryview) -> _Track:
    found = list(descend(moov, 8))
    kinds = [b.kind for b in found]
    if kinds.count(b"trak") != 1:
        raise _NotFragmented("not one track")
    entry = next((b for b in found if b.kind in _CODECS), None)
    config = next((b for b in found if b.kind in (b"avcC", b"hvcC")), None)
    mdhd, trex, stsz = (next((b for b in found if b.kind == k), None) for k in (b"mdhd", b"trex", b"stsz"))
    if entry is None or config is None or mdhd is None or trex is None:
        raise _NotFragmented("no video track of a known codec in fragments")
    if stsz is not None and struct.unpack_from(">I", moov, stsz.body + 8)[0]:
        raise _NotFragmented("samples in the movie header")
    width, height = struct.unpack_from(">HH", moov, entry.body + 24)  # visual sample entry (8.5.2.2)
    timescale = struct.unpack_from(">I", moov, mdhd.body + (20 if moov[mdhd.body] == 1 else 12))[0]
    track_id, _, default_duration, _, default_flags = struct.unpack_from(">IIIII", moov, trex.body + 4)
    if not timescale:
        raise _NotFragmented("no timescale")
    return _Track(
        _CODECS[entry.kind],
        width,
        height,
        bytes(moov[config.body : config.end]),
        timescale,
        track_id,
        default_duration,
        default_flags,
    )


def _fragment_samples(moof: memoryview, track: _Track, next_dts: int) -> tuple[list[tuple[int, int, bool]], int]:
    """(pts, duration, key frame) of each sample of a `moof`, and the decode time after its last; `next_dts`: that
    of the previous fragment (a fragment without `tfdt` continues from it)."""
    out: list[tuple[int, int, bool]] = []
    for traf in boxes(moof, 8):
        if traf.kind != b"traf":
            continue
        children = list(boxes(moof, traf.body, traf.end))
        tfhd = next((b for b in children if b.kind == b"tfhd"), None)
        if tfhd is None:
            raise _NotFragmented("a track fragment without its header")
        tf_flags, track_id = struct.unpack_from(">II", moof, tfhd.body)
        tf_flags &= 0xFFFFFF
        if track_id != track.track_id:
            raise _NotFragmented("a fragment of another track")
        at = tfhd.body + 8 + (8 if tf_flags & 0x01 else 0) + (4 if tf_flags & 0x02 else 0)
        duration = flags = None
        if tf_flags & 0x08:
            duration = struct.unpack_from(">I", moof, at)[0]
            at += 4
        if tf_flags & 0x10:
            at += 4
        if tf_flags & 0x20:
            flags = struct.unpack_from(">I", moof, at)[0]
        default_duration = track.default_duration if duration is None else duration
        default_flags = track.default_flags if flags is None else flags
        dts = next_dts
        for box in children:
            if box.kind == b"tfdt":
                dts = struct.unpack_from(">Q" if moof[box.body] == 1 else ">I", moof, box.body + 4)[0]
            elif box.kind == b"trun":
                version_flags, count = struct.unpack_from(">II", moof, box.body)
                version, tr_flags = version_flags >> 24, version_flags & 0xFFFFFF
                at = box.body + 8 + (4 if tr_flags & 0x01 else 0)
                first_flags = None
                if tr_flags & 0x04:
                    first_flags = struct.unpack_from(">I", moof, at)[0]
                    at += 4
                for index in range(count):
                    sample_duration, sample_flags, cts = default_duration, default_flags, 0
                    if tr_flags & 0x100:
                        sample_duration = struct.unpack_from(">I", moof, at)[0]
                        at += 4
                    if tr_flags & 0x200:
                        at += 4
                    if tr_flags & 0x400:
                        sample_flags = struct.unpack_from(">I", moof, at)[0]
                        at += 4
                    if tr_flags & 0x800:
                        cts = struct.unpack_from(">i" if version else ">I", moof, at)[0]
                        at += 4
                    if index == 0 and first_flags is not None:
                        sample_flags = first_flags
                    out.append((dts + cts, sample_duration, not sample_flags & _NON_SYNC_SAMPLE))
                    dts += sample_duration
        next_dts = dts
    return out, next_dts


def _demuxed_contents(path: Path) -> Contents | None:
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
