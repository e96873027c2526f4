"""RTP (RFC 3550) packets carrying a payload that is split at a size, as GB/T 28181 sends its program stream:
90 kHz timestamps, the marker on the last packet of a frame; over TCP each packet behind its length (RFC 4571)."""

from __future__ import annotations

import struct

MTU_PAYLOAD = 1400  # RTP payload bytes per packet: within an Ethernet frame with IP, UDP and RTP headers


class RtpPacketizer:
    def __init__(self, ssrc: int, payload_type: int = 96, payload_size: int = MTU_PAYLOAD, sequence: int = 0) -> None:
        if not 0 <= ssrc < 2**32:
            raise ValueError("the SSRC is a 32-bit number")
        self.ssrc = ssrc
        self.payload_type = payload_type
        self.payload_size = payload_size
        self.sequence = sequence & 0xFFFF

    def packets(self, payload: bytes | memoryview, timestamp: int) -> list[bytes]:
        """`payload` (one frame) in RTP packets; the last is marked."""
        view = memoryview(payload)
        count = max(1, -(-len(view) // self.payload_size))
        out = []
        for index in range(count):
            chunk = view[index * self.payload_size : (index + 1) * self.payload_size]
            marker = 0x80 if index == count - 1 else 0
            header = struct.pack(
                ">BBHII", 0x80, marker | self.payload_type, self.sequence, timestamp & 0xFFFFFFFF, self.ssrc
            )
            out.append(header + bytes(chunk))
            self.sequence = (self.sequence + 1) & 0xFFFF
        return out


def rfc4571(packet: bytes) -> bytes:
    """An RTP packet framed for a TCP stream: its length in two bytes, then the packet."""
    return struct.pack(">H", len(packet)) + packet
