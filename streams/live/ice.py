"""ICE host candidates on the configured addresses.

aioice offers every interface but loopback and has no per-connection setting for it. A deployment names
its LAN address (and tests 127.0.0.1), so the candidates are gathered here, per peer connection, before
aiortc would gather its own: aiortc's gatherer then finds the work done.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiortc import RTCPeerConnection


async def gather_on(pc: RTCPeerConnection, hosts: Sequence[str]) -> None:
    """Gather the host candidates of every transport of `pc` on `hosts` (call after setRemoteDescription)."""
    if not hosts:
        return  # aioice's default: every interface but loopback
    seen: set[int] = set()
    for transceiver in pc.getTransceivers():
        gatherer = transceiver.sender.transport.transport.iceGatherer
        connection = gatherer._connection  # aioice.Connection; pinned aioice version, see pyproject.toml
        if id(connection) in seen or connection._local_candidates_start:
            continue
        seen.add(id(connection))
        connection._local_candidates_start = True
        for component in connection._components:
            connection._local_candidates += await connection.get_component_candidates(
                component=component, addresses=list(hosts)
            )
        connection._local_candidates_end = True
