"""media/mp4/boxes.py: the one box walker, in memory and on disk, and what stops it."""

from __future__ import annotations

import struct
from pathlib import Path

from media.mp4.boxes import boxes, descend, file_boxes, find
from tests.unit.conftest import Session


def box(kind: bytes, body: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(body), kind) + body


def test_walks_one_level_and_stops_at_a_torn_box() -> None:
    data = box(b"ftyp", b"isom") + box(b"free") + box(b"mdat", b"x" * 10)[:-3]  # the last box is torn
    assert [b.kind for b in boxes(data)] == [b"ftyp", b"free"]


def test_large_and_open_ended_sizes() -> None:
    large = struct.pack(">I4sQ", 1, b"mdat", 16 + 4) + b"abcd"
    open_ended = struct.pack(">I4s", 0, b"mdat") + b"rest of the file"
    assert [(b.kind, b.header, b.size) for b in boxes(large + open_ended)] == [
        (b"mdat", 16, 20),
        (b"mdat", 8, 8 + len(b"rest of the file")),
    ]


def test_descends_into_containers_and_sample_entries(h264_session: Session) -> None:
    init = h264_session.info.mp4_init
    assert init is not None
    kinds = [b.kind for b in descend(init)]
    assert kinds[:2] == [b"ftyp", b"moov"] and {b"trak", b"mdhd", b"stsd", b"avc1", b"avcC", b"trex"} <= set(kinds)
    record = find(init, b"avcC")
    assert record is not None and record[0] == 1
    assert find(init, b"hvcC") is None


def test_file_walk_reads_headers_only(tmp_path: Path) -> None:
    path = tmp_path / "x.mp4"
    path.write_bytes(box(b"ftyp", b"isom") + box(b"mdat", b"\x00" * 100_000))
    with path.open("rb") as handle:
        assert [(b.kind, b.offset, b.size) for b in file_boxes(handle, path.stat().st_size)] == [
            (b"ftyp", 0, 12),
            (b"mdat", 12, 100_008),
        ]
