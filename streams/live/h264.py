"""H.264 access units as WebRTC packetisers and MSE expect them: Annex B, parameter sets before each key frame.

Nothing here decodes: NAL units are only re-framed (length prefixes become start codes) and the SPS/PPS that
cameras often send only in the SDP are put in front of key frames, so a viewer can start on any key frame.
"""

from __future__ import annotations

from streams.nal_units import START_CODE, annexb_units

NAL_SPS = 7
NAL_PPS = 8


def parse_avcc(extradata: bytes) -> tuple[int, list[bytes]]:
    """(NAL length size, parameter sets) of an avcC record (ISO 14496-15)."""
    if len(extradata) < 7 or extradata[0] != 1:
        raise ValueError("not an avcC record")
    length_size = (extradata[4] & 0x03) + 1
    sets: list[bytes] = []
    pos = 5
    for count_mask in (0x1F, 0xFF):
        count = extradata[pos] & count_mask
        pos += 1
        for _ in range(count):
            size = int.from_bytes(extradata[pos:pos + 2], "big")
            sets.append(extradata[pos + 2:pos + 2 + size])
            pos += 2 + size
    return length_size, sets


class AnnexBFramer:
    """Turns one session's packets into self-contained Annex B access units."""

    def __init__(self, extradata: bytes | None) -> None:
        self.length_size: int | None = None  # None: the packets are Annex B already
        sets: list[bytes] = []
        if extradata:
            if extradata[0] == 1:
                self.length_size, sets = parse_avcc(extradata)
            else:
                sets = annexb_units(extradata)
        self.parameter_sets = [unit for unit in sets if unit and unit[0] & 0x1F in (NAL_SPS, NAL_PPS)]
        self._prefix = b"".join(START_CODE + unit for unit in self.parameter_sets)

    def frame(self, data: bytes | memoryview, keyframe: bool) -> bytes:
        """The access unit in Annex B; a key frame carries SPS/PPS if the camera left them out."""
        raw = bytes(data)
        if self.length_size is not None:
            raw = self._from_lengths(raw)
        if keyframe and self._prefix and not self._has_sps(raw):
            return self._prefix + raw
        return raw

    def _from_lengths(self, raw: bytes) -> bytes:
        size = self.length_size or 4
        out = bytearray()
        pos = 0
        while pos + size <= len(raw):
            n = int.from_bytes(raw[pos:pos + size], "big")
            pos += size
            out += START_CODE
            out += raw[pos:pos + n]
            pos += n
        return bytes(out)

    @staticmethod
    def _has_sps(raw: bytes) -> bool:
        # Cameras put the parameter sets first in a key frame (after an optional delimiter): looking at the
        # head of the unit is enough and keeps this cheap on large key frames.
        head = raw[:512]
        i = head.find(b"\x00\x00\x01")
        while 0 <= i < len(head) - 3:
            if head[i + 3] & 0x1F == NAL_SPS:
                return True
            i = head.find(b"\x00\x00\x01", i + 3)
        return False
