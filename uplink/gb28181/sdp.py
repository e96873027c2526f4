"""The SDP of a GB/T 28181 INVITE (RFC 4566 with the standard's `y=` SSRC and `f=` media lines): what the
platform offers, and our answer, `sendonly` PS/90000 over RTP on UDP or TCP (RFC 4145 setup roles)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SessionKind = Literal["Play", "Playback", "Download"]
MediaTransport = Literal["udp", "tcp-active", "tcp-passive"]  # our role: active connects, passive listens
PS_PAYLOAD = 96


class SdpError(ValueError):
    """An offer we cannot answer; the message says why (and goes in the 4xx)."""


@dataclass(frozen=True)
class Offer:
    kind: SessionKind
    address: str  # where the platform receives (UDP, TCP passive on its side) or connects from
    port: int
    transport: MediaTransport
    payload_type: int
    ssrc: str | None  # the `y=` value, ten digits, where the platform gave one
    start: int  # the `t=` range, UNIX seconds; 0 0 for Play
    stop: int
    channel: str | None  # `u=channel:type` of Playback and Download
    download_speed: float  # `a=downloadspeed:` of Download


def parse_offer(body: bytes) -> Offer:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("gb18030", errors="replace")
    lines = [line.strip() for line in text.splitlines() if "=" in line]
    if not lines or not lines[0].startswith("v="):
        raise SdpError("not an SDP body")
    kind: str | None = None
    address = None
    media: list[str] | None = None
    rtpmap: dict[int, str] = {}
    setup = None
    ssrc = None
    times = (0, 0)
    channel = None
    speed = 1.0
    for line in lines:
        key, _, value = line.partition("=")
        if key == "s":
            kind = value.strip()
        elif key == "c":
            parts = value.split()
            if len(parts) == 3 and parts[0] == "IN":
                address = parts[2].split("/")[0]
        elif key == "m" and media is None:
            media = value.split()
        elif key == "t":
            try:
                start, stop = (int(x) for x in value.split()[:2])
            except ValueError:
                raise SdpError(f"bad t= line {value[:40]!r}") from None
            times = (start, stop)
        elif key == "u":
            channel = value.split(":")[0].strip() or None
        elif key == "y":
            ssrc = value.strip()
        elif key == "a":
            name, _, attr = value.partition(":")
            if name == "rtpmap":
                number, _, encoding = attr.partition(" ")
                if number.isdigit():
                    rtpmap[int(number)] = encoding.strip().upper()
            elif name == "setup":
                setup = attr.strip().lower()
            elif name == "downloadspeed":
                try:
                    speed = max(0.25, min(float(attr), 32.0))
                except ValueError:
                    raise SdpError(f"bad downloadspeed {attr[:20]!r}") from None
    if kind not in ("Play", "Playback", "Download"):
        raise SdpError(f"session s={kind!r}: this platform serves Play, Playback and Download")
    if media is None or len(media) < 4 or media[0] != "video":
        raise SdpError("no m=video line")
    if address is None:
        raise SdpError("no c= connection address")
    try:
        port = int(media[1].split("/")[0])
    except ValueError:
        raise SdpError(f"bad media port {media[1][:10]!r}") from None
    proto = media[2].upper()
    transport: MediaTransport
    if proto == "RTP/AVP":
        transport = "udp"
    elif proto == "TCP/RTP/AVP":
        # The platform's role is in its offer: it listens (passive), so we connect (active), or the other way.
        transport = "tcp-passive" if setup == "active" else "tcp-active"
    else:
        raise SdpError(f"media transport {media[2]!r}: RTP/AVP or TCP/RTP/AVP")
    payloads = [int(p) for p in media[3:] if p.isdigit()]
    ps = [p for p in payloads if rtpmap.get(p, "").startswith("PS/") or (p == PS_PAYLOAD and p not in rtpmap)]
    if not ps:
        raise SdpError("the offer has no PS/90000 payload")
    if ssrc is not None and not (ssrc.isdigit() and len(ssrc) <= 10 and int(ssrc) < 2**32):
        raise SdpError(f"bad y= SSRC {ssrc[:20]!r}")
    if kind != "Play" and not 0 < times[0] < times[1]:
        raise SdpError(f"{kind} needs a t= range")
    if not 0 <= port <= 65535 or (port == 0 and transport != "tcp-passive"):
        raise SdpError(f"bad media port {port}")
    return Offer(kind, address, port, transport, ps[0], ssrc, times[0], times[1], channel, speed)  # type: ignore[arg-type]


def answer(offer: Offer, channel_id: str, host: str, port: int, ssrc: str) -> bytes:
    proto = "RTP/AVP" if offer.transport == "udp" else "TCP/RTP/AVP"
    lines = [
        "v=0",
        f"o={channel_id} 0 0 IN IP4 {host}",
        f"s={offer.kind}",
        f"c=IN IP4 {host}",
        f"t={offer.start} {offer.stop}",
        f"m=video {port} {proto} {offer.payload_type}",
        "a=sendonly",
        f"a=rtpmap:{offer.payload_type} PS/90000",
    ]
    if offer.transport != "udp":
        lines += [f"a=setup:{'active' if offer.transport == 'tcp-active' else 'passive'}", "a=connection:new"]
    lines += [f"y={ssrc}", "f="]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")
