"""A camera stream's codec parameters carried as an empty fragmented-MP4 initialisation segment.

PyAV copies codec parameters into an output stream only from another stream (`add_stream_from_template`);
building one from loose fields would open an encoder. The source, which holds the camera's demuxed stream,
writes an initialisation segment once per connection; a consumer that muxes (the recorder, an fMP4 viewer)
opens it to get a template stream. It is codec-agnostic (H.264 and H.265 alike) and costs under a
millisecond per connection.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

import av
import av.container
import av.stream

FRAGMENTED = "frag_keyframe+empty_moov+default_base_moof"


def init_segment(video: av.stream.Stream) -> bytes | None:
    """`ftyp` and `moov` describing `video`, or None where MP4 cannot carry its codec."""
    buffer = io.BytesIO()
    try:
        with av.open(buffer, "w", format="mp4", options={"movflags": FRAGMENTED}) as output:
            output.add_stream_from_template(video)
            output.start_encoding()
    except (av.FFmpegError, ValueError):
        return None
    return buffer.getvalue()


@contextmanager
def template_stream(init: bytes) -> Iterator[av.stream.Stream]:
    """The video stream described by `init`; valid inside the block, for `add_stream_from_template`."""
    with av.open(io.BytesIO(init), "r", format="mp4") as container:
        yield container.streams.video[0]
