"""Checks on a WHEP offer before aiortc sees it: bounded, parseable, and with an H.264 video to receive."""

from __future__ import annotations

from aiortc import sdp

from streams.live.errors import MalformedOffer, NoCommonCodec

MAX_OFFER_BYTES = 64 * 1024
# Every remote candidate gets connectivity checks: a hostile offer must not turn the service into a UDP
# sprayer. Browsers offer a handful.
MAX_CANDIDATES = 16
# A viewer wants one video (and perhaps audio and data); each section costs a transceiver.
MAX_MEDIA_SECTIONS = 4
# aiortc sends H.264 with packetization-mode 1 and answers these profiles (constrained baseline, baseline);
# browsers decode the camera's Main/High stream under either, as every RTSP-to-WebRTC gateway relies on.
ANSWERABLE_PROFILES = {sdp.parse_h264_profile_level_id(level)[0] for level in ("42e01f", "42001f")}


def check_offer(text: str) -> sdp.SessionDescription:
    """The parsed offer; raises MalformedOffer or NoCommonCodec with a reason a person can act on."""
    if not text.strip():
        raise MalformedOffer("empty SDP offer")
    if len(text.encode("utf-8", "replace")) > MAX_OFFER_BYTES:
        raise MalformedOffer(f"SDP offer larger than {MAX_OFFER_BYTES} bytes")
    if not text.lstrip().startswith("v=0"):
        raise MalformedOffer("not an SDP offer: it must start with 'v=0'")
    try:
        description = sdp.SessionDescription.parse(text)
    except Exception as error:  # aiortc's parser raises whatever the bad line provokes
        raise MalformedOffer(f"unparseable SDP offer ({type(error).__name__})") from None
    if len(description.media) > MAX_MEDIA_SECTIONS:
        raise MalformedOffer(
            f"the offer has {len(description.media)} media sections; at most {MAX_MEDIA_SECTIONS} are accepted"
        )
    videos = [m for m in description.media if m.kind == "video"]
    if not videos:
        raise MalformedOffer("the offer has no video section (m=video)")
    for media in description.media:
        if media.ice is None or not media.ice.usernameFragment or not media.ice.password or media.dtls is None:
            raise MalformedOffer("the offer lacks ICE credentials or a DTLS fingerprint")
    candidates = sum(len(media.ice_candidates) for media in description.media)
    if candidates > MAX_CANDIDATES:
        raise MalformedOffer(f"the offer has {candidates} ICE candidates; at most {MAX_CANDIDATES} are accepted")
    video = videos[0]
    if video.direction not in (None, "recvonly", "sendrecv"):
        raise MalformedOffer(f"the video section is {video.direction}: a viewer must receive")
    h264 = [codec for codec in video.rtp.codecs if codec.mimeType.lower() == "video/h264"]
    if not h264:
        names = sorted({codec.mimeType.split("/")[-1] for codec in video.rtp.codecs}) or ["none"]
        raise NoCommonCodec(
            f"the offer has no H.264 video (it offers {', '.join(names)}); "
            "live view sends H.264 as the camera encodes it"
        )
    usable = [
        codec
        for codec in h264
        if str(codec.parameters.get("packetization-mode", "0")) == "1" and _profile(codec) in ANSWERABLE_PROFILES
    ]
    if not usable:
        raise NoCommonCodec(
            "the offer's H.264 lacks packetization-mode=1 with a baseline profile-level-id (42e01f or 42001f)"
        )
    return description


def _profile(codec: object) -> object:
    # aiortc matches on the profile only (levels differ between browsers); an absent id means 42e01f.
    try:
        level_id = str(getattr(codec, "parameters", {}).get("profile-level-id", "42e01f"))
        return sdp.parse_h264_profile_level_id(level_id)[0]
    except ValueError:
        return None
