"""A decoder for one camera session's packets, for the few consumers that need pictures."""

from __future__ import annotations

import av

from media.packet import StreamInfo


def decoder_for(info: StreamInfo) -> av.CodecContext:
    """A PyAV decoder of the session's codec, given the parameter sets cameras often send only in the SDP."""
    decoder = av.CodecContext.create(info.codec, "r")
    if info.extradata:
        decoder.extradata = info.extradata
    return decoder
