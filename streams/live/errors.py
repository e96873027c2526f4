"""Why a live view was refused; the API turns each into a 4xx naming the problem."""

from __future__ import annotations


class LiveViewError(Exception):
    """Base of the refusals; `str(error)` is worded for the viewer."""


class MalformedOffer(LiveViewError):
    """The SDP offer cannot be parsed or offers no video to receive."""


class NoCommonCodec(LiveViewError):
    """The offer has no H.264 the camera's packets can be sent as."""


class CameraUnavailable(LiveViewError):
    """The camera is offline, disabled or sends a codec the viewer cannot take."""


class ViewerLimitReached(LiveViewError):
    """The camera or the user already has as many live viewers as allowed."""
