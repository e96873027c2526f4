"""uplink/gb28181/sdp.py: what a platform's INVITE offers, and our answer."""

from __future__ import annotations

import pytest

from uplink.gb28181.sdp import SdpError, answer, parse_offer

PLAY_UDP = """v=0
o=34020000002000000001 0 0 IN IP4 192.168.1.10
s=Play
c=IN IP4 192.168.1.10
t=0 0
m=video 30000 RTP/AVP 96 98 97
a=recvonly
a=rtpmap:96 PS/90000
a=rtpmap:98 H264/90000
a=rtpmap:97 MPEG4/90000
y=0100000001
"""


def _sdp(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


def test_play_over_udp() -> None:
    offer = parse_offer(_sdp(PLAY_UDP))
    assert (offer.kind, offer.address, offer.port, offer.transport) == ("Play", "192.168.1.10", 30000, "udp")
    assert offer.payload_type == 96 and offer.ssrc == "0100000001" and (offer.start, offer.stop) == (0, 0)
    body = answer(offer, "34020000001320000001", "10.0.0.5", 40000, "0100000001").decode()
    assert body.splitlines() == [
        "v=0",
        "o=34020000001320000001 0 0 IN IP4 10.0.0.5",
        "s=Play",
        "c=IN IP4 10.0.0.5",
        "t=0 0",
        "m=video 40000 RTP/AVP 96",
        "a=sendonly",
        "a=rtpmap:96 PS/90000",
        "y=0100000001",
        "f=",
    ]


@pytest.mark.parametrize(
    ("theirs", "ours"), [("passive", "tcp-active"), ("active", "tcp-passive"), (None, "tcp-active")]
)
def test_tcp_roles_are_the_opposite_of_the_platforms(theirs: str | None, ours: str) -> None:
    text = PLAY_UDP.replace("RTP/AVP", "TCP/RTP/AVP") + (f"a=setup:{theirs}\na=connection:new\n" if theirs else "")
    offer = parse_offer(_sdp(text))
    assert offer.transport == ours
    body = answer(offer, "34020000001320000001", "10.0.0.5", 9, "0100000001").decode()
    assert "m=video 9 TCP/RTP/AVP 96" in body and f"a=setup:{ours.split('-')[1]}" in body


def test_playback_and_download() -> None:
    text = PLAY_UDP.replace("s=Play", "s=Playback\nu=34020000001320000001:0").replace(
        "t=0 0", "t=1796000000 1796000600"
    )
    offer = parse_offer(_sdp(text))
    assert offer.kind == "Playback" and (offer.start, offer.stop) == (1796000000, 1796000600)
    assert offer.channel == "34020000001320000001"
    text = text.replace("s=Playback", "s=Download") + "a=downloadspeed:4\n"
    assert parse_offer(_sdp(text)).download_speed == 4.0


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (("s=Play", "s=Talk"), "Play, Playback and Download"),
        (("m=video 30000 RTP/AVP 96 98 97", "m=audio 30000 RTP/AVP 8"), "no m=video"),
        (("a=rtpmap:96 PS/90000", "a=rtpmap:96 H265/90000"), "no PS/90000"),
        (("RTP/AVP", "RTP/SAVP"), "RTP/AVP or TCP/RTP/AVP"),
        (("y=0100000001", "y=99999999999"), "bad y="),
        (("c=IN IP4 192.168.1.10\n", ""), "no c="),
        (("s=Play", "s=Playback"), "needs a t= range"),
        (("v=0", "hello"), "not an SDP"),
    ],
)
def test_offers_we_cannot_answer(change: tuple[str, str], why: str) -> None:
    with pytest.raises(SdpError, match=why):
        parse_offer(_sdp(PLAY_UDP.replace(*change)))
