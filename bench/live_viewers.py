"""Many WHEP viewers in one process, for load (bench/live.py): they receive and reassemble every frame but
do not decode it, so the viewers' own cost stays small and the server's is what gets measured.

    python bench/live_viewers.py WHEP_URL COUNT SECONDS [TOKEN]

Prints "ready" once every viewer has its first frame, then after SECONDS a JSON line with the frames each
viewer received during that window.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import aiortc.rtcrtpreceiver
import httpx
from aiortc import RTCSessionDescription

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.rig.whep_client import make_offer, offer_pc


class CountingDecoder:
    """Stands in for the H.264 decoder: counts the reassembled frames and returns no picture."""

    frames = 0

    def decode(self, encoded_frame: object) -> list[object]:
        CountingDecoder.frames += 1
        return []


aiortc.rtcrtpreceiver.get_decoder = lambda codec: CountingDecoder()


async def viewer(client: httpx.AsyncClient, url: str, first: asyncio.Event) -> object:
    pc = offer_pc()

    async def await_first_packets() -> None:
        receiver = pc.getTransceivers()[0].receiver
        while not first.is_set():
            await asyncio.sleep(0.1)
            for stats in (await receiver.getStats()).values():
                if getattr(stats, "type", "") == "inbound-rtp" and stats.packetsReceived:
                    first.set()

    offer = await make_offer(pc)
    response = await client.post(url, content=offer, headers={"Content-Type": "application/sdp"})
    response.raise_for_status()
    await pc.setRemoteDescription(RTCSessionDescription(sdp=response.text, type="answer"))
    asyncio.ensure_future(await_first_packets())
    return pc


async def main(url: str, count: int, seconds: float, token: str | None) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        firsts = [asyncio.Event() for _ in range(count)]
        pcs = [await viewer(client, url, firsts[i]) for i in range(count)]
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in firsts)), 60)
        await asyncio.sleep(2.0)  # past the cached-GOP burst
        start_frames = CountingDecoder.frames
        print("ready", flush=True)
        await asyncio.sleep(seconds)
        frames = CountingDecoder.frames - start_frames
        print(
            json.dumps(
                {"viewers": count, "seconds": seconds, "frames": frames, "fps_per_viewer": frames / seconds / count}
            ),
            flush=True,
        )
        for pc in pcs:
            await pc.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None))
