"""A WHEP viewer built on aiortc: posts an offer, receives the camera's video (tests and bench)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import av
import httpx
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from streams.live.ice import gather_on


@dataclass
class WhepViewer:
    pc: RTCPeerConnection
    location: str
    track_ready: asyncio.Future[MediaStreamTrack]

    async def track(self, timeout: float = 10.0) -> MediaStreamTrack:
        return await asyncio.wait_for(asyncio.shield(self.track_ready), timeout)

    async def frames(self, count: int, timeout: float = 20.0) -> list[av.VideoFrame]:
        track = await self.track(timeout)
        out = []
        async with asyncio.timeout(timeout):
            while len(out) < count:
                out.append(await track.recv())
        return out

    async def close(self, client: httpx.AsyncClient | None = None) -> None:
        if client is not None:
            await client.delete(self.location)
        await self.pc.close()


def offer_pc(codecs: str = "h264", audio: bool = False) -> RTCPeerConnection:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    if audio:  # as generic WHEP players offer: audio and video, both to receive
        pc.addTransceiver("audio", direction="recvonly")
    transceiver = pc.addTransceiver("video", direction="recvonly")
    if codecs != "any":
        from aiortc import RTCRtpReceiver

        wanted = [c for c in RTCRtpReceiver.getCapabilities("video").codecs if codecs in c.mimeType.lower()]
        transceiver.setCodecPreferences(wanted)
    return pc


async def make_offer(pc: RTCPeerConnection) -> str:
    await gather_on(pc, ["127.0.0.1"])  # aioice leaves loopback out; the service listens there in tests
    await pc.setLocalDescription(await pc.createOffer())
    return pc.localDescription.sdp


async def open_viewer(client: httpx.AsyncClient, camera_id: str) -> WhepViewer:
    """POST an offer for `camera_id`; raises httpx.HTTPStatusError on a refusal."""
    return await open_whep(client, f"/api/cameras/{camera_id}/whep")


async def open_whep(client: httpx.AsyncClient, url: str, audio: bool = False) -> WhepViewer:
    """POST an offer to the WHEP endpoint `url`."""
    pc = offer_pc(audio=audio)
    loop = asyncio.get_running_loop()
    track_ready: asyncio.Future[MediaStreamTrack] = loop.create_future()

    @pc.on("track")
    def _on_track(track: MediaStreamTrack) -> None:
        if not track_ready.done():
            track_ready.set_result(track)

    offer = await make_offer(pc)
    response = await client.post(url, content=offer, headers={"Content-Type": "application/sdp"})
    if response.status_code != 201:
        await pc.close()
        response.raise_for_status()
    await pc.setRemoteDescription(RTCSessionDescription(sdp=response.text, type="answer"))
    return WhepViewer(pc, response.headers["location"], track_ready)


async def _hold(base_url: str, token: str, camera_id: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        viewer = await open_viewer(client, camera_id)
        await viewer.frames(1)
        print("receiving", flush=True)
        await asyncio.Event().wait()  # until killed: a viewer that vanishes without closing


if __name__ == "__main__":
    import sys

    asyncio.run(_hold(*sys.argv[1:4]))
