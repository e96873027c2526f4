"""The one walker of ISO base media file (MP4) boxes, over bytes in memory or a file on disk.

A box is a 32-bit size (1: a 64-bit size follows; 0: to the end of its parent), a four-character type and a
body. Walking stops at a box that claims to run past its parent: that is the box a killed writer left torn.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from typing import BinaryIO, NamedTuple

# Where the child boxes of a container start, from the end of its header: most containers hold only boxes;
# a sample description has a version, flags and an entry count first; a visual sample entry 78 bytes of
# fields (ISO/IEC 14496-12, 8.5.2 and 12.1.3).
CHILDREN_AT = {
    b"moov": 0,
    b"trak": 0,
    b"mdia": 0,
    b"minf": 0,
    b"stbl": 0,
    b"mvex": 0,
    b"moof": 0,
    b"traf": 0,
    b"stsd": 8,
    b"avc1": 78,
    b"avc3": 78,
    b"hvc1": 78,
    b"hev1": 78,
}


class Box(NamedTuple):
    kind: bytes
    offset: int  # of the box's first byte
    header: int  # bytes of size and type (8 or 16)
    size: int  # of the whole box

    @property
    def end(self) -> int:
        return self.offset + self.size

    @property
    def body(self) -> int:
        return self.offset + self.header


def walk(read: Callable[[int, int], bytes], start: int, end: int) -> Iterator[Box]:
    """The boxes from `start` to `end`, one level deep; `read(offset, n)` gives up to n bytes at offset."""
    offset = start
    while offset + 8 <= end:
        head = read(offset, 16)
        if len(head) < 8:
            return
        size, kind = struct.unpack_from(">I4s", head)
        header = 8
        if size == 1:
            if len(head) < 16:
                return
            size = struct.unpack_from(">Q", head, 8)[0]
            header = 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            return  # torn: its end has not been written
        yield Box(kind, offset, header, size)
        offset += size


def boxes(data: bytes | memoryview, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """The boxes of a buffer in memory, one level deep."""
    view = memoryview(data)
    return walk(lambda offset, n: bytes(view[offset : offset + n]), start, len(view) if end is None else end)


def file_boxes(handle: BinaryIO, size: int) -> Iterator[Box]:
    """The top-level boxes of an open file of `size` bytes, reading only their headers."""

    def read(offset: int, n: int) -> bytes:
        handle.seek(offset)
        return handle.read(n)

    return walk(read, 0, size)


def descend(data: bytes | memoryview, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """Every box of a buffer, depth first, entering the containers of `CHILDREN_AT` on the way."""
    for box in boxes(data, start, end):
        yield box
        skip = CHILDREN_AT.get(box.kind)
        if skip is not None:
            yield from descend(data, box.body + skip, box.end)


def find(data: bytes | memoryview, kind: bytes) -> memoryview | None:
    """The body of the first box of `kind` anywhere in the containers of `data`, or None."""
    view = memoryview(data)
    for box in descend(view):
        if box.kind == kind:
            return view[box.body : box.end]
    return None
