"""The reference for bench/live.py: a WHEP server that live-views a camera the common aiortc way, by
decoding it once (MediaPlayer, MediaRelay) and encoding it again for every viewer (aiortc's H.264
encoder, libx264). Not part of the service; it exists to be measured against.

    python bench/transcoding_whep.py RTSP_URL PORT
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer, MediaRelay
from fastapi import FastAPI, Request, Response

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from streams.live.ice import gather_on
from streams.live.peer import H264_CAPABILITIES


def build(url: str) -> FastAPI:
    app = FastAPI()
    player = MediaPlayer(url, options={"rtsp_transport": "tcp"})
    relay = MediaRelay()
    peers: set[RTCPeerConnection] = set()

    @app.post("/whep")
    async def whep(request: Request) -> Response:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        peers.add(pc)
        transceiver = pc.addTransceiver(relay.subscribe(player.video), direction="sendonly")
        transceiver.setCodecPreferences(H264_CAPABILITIES)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=(await request.body()).decode(), type="offer"))
        await gather_on(pc, ["127.0.0.1"])
        await pc.setLocalDescription(await pc.createAnswer())
        return Response(
            pc.localDescription.sdp,
            status_code=201,
            media_type="application/sdp",
            headers={"Location": f"/whep/{id(pc)}"},
        )

    @app.get("/ready")
    def ready() -> dict[str, bool]:
        return {"ready": True}

    return app


if __name__ == "__main__":
    uvicorn.run(build(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
