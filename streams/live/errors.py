"""Why a live view was refused; the API turns each into a 4xx naming the problem."""

from __future__ import annotations


class LiveViewError(Exception):
    """Base of the refusals; `str(error)` is worded for the viewer."""


class MalformedOffer(LiveViewError):
    """The SDP offer cannot be parsed or offers no video to receive."""


class NoCommonCodec(LiveViewError):
    """The offer has no H.264 the camera's packets can be sent as."""


class CameraUnavailable(LiveViewError):
    """The camera is offline or disabled."""


class CodecNotForwardable(LiveViewError):
    """The camera sends a codec (H.265) that WebRTC and the fMP4 fallback cannot carry to a browser; the Motion
    JPEG view, which decodes, can."""


class ViewerLimitReached(LiveViewError):
    """The camera or the user already has as many live viewers as allowed."""
