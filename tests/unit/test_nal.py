"""media/nal.py: the one start-code scanner and the framings built on it."""

from __future__ import annotations

from media.nal import (
    AnnexBFramer,
    annexb_units,
    avc_codec_string,
    from_length_prefixed,
    is_length_prefixed,
    length_prefixed,
    parse_avcc,
    starts_with_sps,
    unit_spans,
)
from tests.unit.conftest import Session

SPS, PPS, IDR = b"\x67\x4d\x40\x0a\xaa", b"\x68\xee\x3c\x80", b"\x65\x88\x84\x00\x21"


def test_units_are_found_with_three_and_four_byte_start_codes_and_trailing_zeros() -> None:
    data = b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x01" + PPS + b"\x00\x00" + b"\x00\x00\x00\x01" + IDR
    assert annexb_units(data) == [SPS, PPS, IDR]
    assert unit_spans(b"no start code here") == []
    # A unit ending the buffer keeps its own last bytes, zeros included: only a following start code ends one.
    assert annexb_units(b"\x00\x00\x01" + IDR + b"\x00") == [IDR + b"\x00"]


def test_length_prefixed_pieces_are_views_of_the_cameras_buffer() -> None:
    data = b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x00\x01" + IDR
    parts, size = length_prefixed(data)
    assert b"".join(bytes(p) for p in parts) == len(SPS).to_bytes(4, "big") + SPS + len(IDR).to_bytes(4, "big") + IDR
    assert size == 8 + len(SPS) + len(IDR)
    assert all(isinstance(p, memoryview) and p.obj is data for p in parts[1::2])  # not copied
    assert (
        from_length_prefixed(b"".join(bytes(p) for p in parts)) == b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x00\x01" + IDR
    )


def test_a_256_byte_unit_behind_its_length_is_not_taken_for_a_start_code(h264_file_session: Session) -> None:
    # 00 00 01 00 is the length prefix of a 256-byte unit: the framing comes from the extradata, never the bytes.
    assert is_length_prefixed(h264_file_session.info.extradata)
    assert not is_length_prefixed(b"\x00\x00\x00\x01" + SPS) and not is_length_prefixed(None)


def test_avcc_record_and_codec_string(h264_file_session: Session) -> None:
    record = h264_file_session.info.extradata
    assert record is not None
    length_size, sets = parse_avcc(record)
    assert length_size == 4 and [unit[0] & 0x1F for unit in sets] == [7, 8]
    assert avc_codec_string(record) == f"avc1.{record[1]:02x}{record[2]:02x}{record[3]:02x}"
    assert avc_codec_string(record).startswith("avc1.4d")  # Main profile


def test_framer_puts_parameter_sets_before_key_frames_that_lack_them(h264_file_session: Session) -> None:
    framer = AnnexBFramer(h264_file_session.info.extradata)
    key = next(p for p in h264_file_session.packets if p.keyframe)
    delta = next(p for p in h264_file_session.packets if not p.keyframe)
    framed_key = framer.frame(key.data, keyframe=True)
    assert framed_key.startswith(b"\x00\x00\x00\x01\x67") and starts_with_sps(framed_key)
    assert not framer.frame(delta.data, keyframe=False).startswith(b"\x00\x00\x00\x01\x67")
    # A key frame that carries its SPS already gets no second copy.
    inband = b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x00\x01" + PPS + b"\x00\x00\x00\x01" + IDR
    assert AnnexBFramer(b"\x00\x00\x00\x01" + SPS).frame(inband, keyframe=True) == inband
