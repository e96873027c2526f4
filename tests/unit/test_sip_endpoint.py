"""uplink/gb28181/sip/endpoint.py and transport.py over real loopback sockets: a request sent again over UDP
until answered, a retransmitted request answered with the same response and handled once, a garbled request
answered 400, TCP messages framed by Content-Length however the bytes arrive."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from uplink.gb28181.sip.endpoint import SipEndpoint, SipTimeout
from uplink.gb28181.sip.message import SipRequest, SipResponse, new_branch, parse, response_to
from uplink.gb28181.sip.transport import Address


def _request(method: str = "MESSAGE", branch: str | None = None, body: bytes = b"") -> SipRequest:
    request = SipRequest(method=method, uri="sip:34020000001320000001@127.0.0.1")
    request.headers = [
        ("Via", f"SIP/2.0/UDP 127.0.0.1:1;branch={branch or new_branch()}"),
        ("From", "<sip:a@b>;tag=1"),
        ("To", "<sip:c@d>"),
        ("Call-ID", "call-1"),
        ("CSeq", f"1 {method}"),
    ]
    request.body = body
    return request


def test_a_udp_request_is_sent_again_until_answered() -> None:
    async def scenario() -> tuple[int, list[float]]:
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        peer.bind(("127.0.0.1", 0))
        peer.setblocking(False)
        endpoint = SipEndpoint("udp", lambda request, source: asyncio.sleep(0), "test")  # type: ignore[arg-type,return-value]
        await endpoint.open("127.0.0.1", 0)
        loop = asyncio.get_running_loop()
        arrivals: list[float] = []

        async def platform() -> None:
            while len(arrivals) < 3:  # the first two copies are lost
                data = await loop.sock_recv(peer, 65536)
                arrivals.append(time.monotonic())
            request = parse(data)
            assert isinstance(request, SipRequest)
            peer.sendto(response_to(request, 200).encode(), endpoint.local)

        task = asyncio.create_task(platform())
        answer = await endpoint.request(_request(), peer.getsockname(), timeout=5)
        await task
        await endpoint.close()
        peer.close()
        return answer.status, arrivals

    status, arrivals = asyncio.run(scenario())
    assert status == 200
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert 0.4 < gaps[0] < 0.8 and 0.9 < gaps[1] < 1.4, gaps  # T1, then 2·T1


def test_no_answer_times_out() -> None:
    async def scenario() -> None:
        endpoint = SipEndpoint("udp", lambda request, source: asyncio.sleep(0), "test")  # type: ignore[arg-type,return-value]
        await endpoint.open("127.0.0.1", 0)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
            silent.bind(("127.0.0.1", 0))
            with pytest.raises(SipTimeout):
                await endpoint.request(_request(), silent.getsockname(), timeout=1.2)
        await endpoint.close()

    asyncio.run(scenario())


def test_a_retransmitted_request_gets_the_same_answer_and_is_handled_once() -> None:
    handled: list[str] = []

    async def handler(request: SipRequest, source: Address) -> SipResponse:
        handled.append(request.method)
        await asyncio.sleep(0.2)  # still working when the copy comes
        response = response_to(request, 200, to_tag=f"t{len(handled)}")
        return response

    async def scenario() -> list[bytes]:
        endpoint = SipEndpoint("udp", handler, "test")
        await endpoint.open("127.0.0.1", 0)
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(2)
        invite = _request("INVITE", "z9hG4bKsame").encode()
        peer.sendto(invite, endpoint.local)
        await asyncio.sleep(0.05)
        peer.sendto(invite, endpoint.local)  # while the handler works: 100 Trying
        await asyncio.sleep(0.4)
        peer.sendto(invite, endpoint.local)  # after: the same 200
        peer.sendto(
            b"MESSAGE sip:a@b SIP/2.0\r\nVia: v\r\nFrom: a\r\nTo: b\r\nCall-ID: x\r\nCSeq: 1 MESSAGE\r\nl: 9\r\n\r\n",
            endpoint.local,
        )
        await asyncio.sleep(0.3)
        answers = [await asyncio.to_thread(peer.recv, 65536) for _ in range(4)]
        await endpoint.close()
        peer.close()
        return answers

    answers = asyncio.run(scenario())
    firsts = [a.split(b"\r\n")[0] for a in answers]
    assert firsts.count(b"SIP/2.0 100 Trying") == 1 and firsts.count(b"SIP/2.0 200 OK") == 2
    assert any(f.startswith(b"SIP/2.0 400 Bad Request - the body is shorter") for f in firsts)
    two = [a for a in answers if a.startswith(b"SIP/2.0 200")]
    assert two[0] == two[1] and handled == ["INVITE"]


def test_tcp_messages_framed_by_content_length_however_they_arrive() -> None:
    received: list[bytes] = []

    async def handler(request: SipRequest, source: Address) -> SipResponse:
        received.append(request.body)
        return response_to(request, 200)

    async def scenario() -> bytes:
        endpoint = SipEndpoint("tcp", handler, "test")
        await endpoint.open("127.0.0.1", 0)
        reader, writer = await asyncio.open_connection(*endpoint.local)
        one = _request(body=b"<a>first</a>").encode()
        two = _request(body=b"<b>second</b>").encode()
        writer.write(b"\r\n\r\n" + one + two[:30])  # a keep-alive, one whole message and the start of the next
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.write(two[30:])
        await writer.drain()
        answers = b""
        while answers.count(b"SIP/2.0 200 OK") < 2:
            answers += await asyncio.wait_for(reader.read(65536), 2)
        writer.close()
        await endpoint.close()
        return answers

    asyncio.run(scenario())
    assert received == [b"<a>first</a>", b"<b>second</b>"]
