"""The internals of pinned packages that the service relies on: if a PyAV, aiortc or aioice upgrade changes
them, these fail, naming what broke (see the pins in pyproject.toml)."""

from __future__ import annotations

import asyncio

import aioice
from aiortc import RTCPeerConnection, RTCSessionDescription

from streams import read_interrupt
from streams.live.ice import gather_on


def test_pyavs_interrupt_state_aborts_a_blocked_read() -> None:
    assert read_interrupt.supported(), (
        "streams/read_interrupt.py no longer finds or works PyAV's interrupt state: ingest would fall back to "
        "PyAV's read timeout, a third more CPU per camera. Check the pinned av version."
    )


def test_aioice_connection_gathers_host_candidates_on_the_given_addresses() -> None:
    connection = aioice.Connection(ice_controlling=True)
    for name in ("_local_candidates_start", "_local_candidates_end", "_local_candidates", "_components"):
        assert hasattr(connection, name), f"aioice.Connection has no {name}: streams/live/ice.py needs it"

    async def gathered() -> list[str]:
        viewer, service = RTCPeerConnection(), RTCPeerConnection()
        try:
            viewer.addTransceiver("video", direction="recvonly")
            await viewer.setLocalDescription(await viewer.createOffer())
            service.addTransceiver("video", direction="sendonly")
            await service.setRemoteDescription(RTCSessionDescription(viewer.localDescription.sdp, "offer"))
            await gather_on(service, ["127.0.0.1"])
            await service.setLocalDescription(await service.createAnswer())
            return [line for line in service.localDescription.sdp.splitlines() if line.startswith("a=candidate")]
        finally:
            await viewer.close()
            await service.close()

    candidates = asyncio.run(gathered())
    assert candidates and all(" 127.0.0.1 " in line for line in candidates), candidates
