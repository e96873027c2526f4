"""SIP over UDP (a message per datagram) and TCP (messages framed by their Content-Length), on asyncio.

Both hand each whole message to the endpoint with the address it came from, and what cannot be parsed to a
`malformed` callback (which may answer it with a 400); neither lets one bad message or peer stop it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Callable

from uplink.gb28181.sip.message import MAX_MESSAGE, SipParseError, SipRequest, SipResponse, parse

log = logging.getLogger(__name__)

Address = tuple[str, int]
Receiver = Callable[[SipRequest | SipResponse, Address], None]
Malformed = Callable[[SipParseError, Address], None]

CONNECT_TIMEOUT_S = 5.0
_CONTENT_LENGTH = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*([0-9]+)[ \t]*\r?$", re.I | re.M)


class SipTransport(ABC):
    reliable: bool  # TCP: no retransmissions

    def __init__(self, receive: Receiver, malformed: Malformed) -> None:
        self._receive = receive
        self._malformed = malformed
        self.local: Address = ("", 0)

    @abstractmethod
    async def open(self, host: str, port: int) -> None: ...

    @abstractmethod
    async def send(self, data: bytes, to: Address) -> None:
        """Raises OSError where the message cannot be handed to the network."""

    @abstractmethod
    async def close(self) -> None: ...

    def _deliver(self, data: bytes, source: Address) -> None:
        try:
            message = parse(data)
        except SipParseError as error:
            self._malformed(error, source)
            return
        self._receive(message, source)


class UdpTransport(SipTransport, asyncio.DatagramProtocol):
    reliable = False

    def __init__(self, receive: Receiver, malformed: Malformed) -> None:
        super().__init__(receive, malformed)
        self._transport: asyncio.DatagramTransport | None = None
        self._closed: asyncio.Future[None] | None = None

    async def open(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self._closed = loop.create_future()
        self._transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(host, port))
        self.local = self._transport.get_extra_info("sockname")[:2]

    def connection_lost(self, exc: Exception | None) -> None:
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    def datagram_received(self, data: bytes, addr: tuple[str | bytes, int]) -> None:
        if not data.strip():
            return  # a CRLF keep-alive
        self._deliver(data.lstrip(b"\r\n"), (str(addr[0]), addr[1]))

    def error_received(self, exc: Exception) -> None:
        # An ICMP "port unreachable" after we sent to a platform that is down: the request times out instead.
        log.debug("SIP/UDP %s: %s", self.local, exc)

    async def send(self, data: bytes, to: Address) -> None:
        if self._transport is None or self._transport.is_closing():
            raise OSError("the SIP socket is closed")
        self._transport.sendto(data, to)

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            if self._closed is not None:
                await self._closed  # the socket is closed now: the port can be opened again at once


class TcpTransport(SipTransport):
    """Listens on our SIP port (a platform may open its own connection to us) and connects to the platform on
    first send; a request is answered on the connection it came in on."""

    reliable = True

    def __init__(self, receive: Receiver, malformed: Malformed) -> None:
        super().__init__(receive, malformed)
        self._server: asyncio.Server | None = None
        self._writers: dict[Address, asyncio.StreamWriter] = {}
        self._connecting: dict[Address, asyncio.Lock] = {}
        self._readers: set[asyncio.Task[None]] = set()

    async def open(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._accepted, host, port, limit=MAX_MESSAGE + 1024)
        self.local = self._server.sockets[0].getsockname()[:2]

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")[:2]
        self._writers[peer] = writer
        await self._read(reader, writer, peer)

    async def send(self, data: bytes, to: Address) -> None:
        writer = self._writers.get(to)
        if writer is None or writer.is_closing():
            lock = self._connecting.setdefault(to, asyncio.Lock())
            async with lock:
                writer = self._writers.get(to)
                if writer is None or writer.is_closing():
                    writer = await self._connect(to)
        writer.write(data)
        try:
            await asyncio.wait_for(writer.drain(), CONNECT_TIMEOUT_S)
        except (TimeoutError, ConnectionError) as error:
            writer.close()
            raise OSError(f"cannot send to {to[0]}:{to[1]}: {error or type(error).__name__}") from None

    async def _connect(self, to: Address) -> asyncio.StreamWriter:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(*to, limit=MAX_MESSAGE + 1024), CONNECT_TIMEOUT_S
            )
        except TimeoutError:
            raise OSError(f"no TCP connection to {to[0]}:{to[1]} within {CONNECT_TIMEOUT_S:g} s") from None
        self._writers[to] = writer
        task = asyncio.create_task(self._read(reader, writer, to), name=f"sip-tcp-{to[0]}:{to[1]}")
        self._readers.add(task)
        task.add_done_callback(self._readers.discard)
        return writer

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: Address) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                head = head.lstrip(b"\r\n")
                if not head.strip():
                    continue  # CRLF keep-alives between messages
                match = _CONTENT_LENGTH.search(head)
                length = int(match.group(1)) if match else 0
                if length > MAX_MESSAGE:
                    log.warning("SIP/TCP %s:%s: a %d-byte body; closing the connection", *peer, length)
                    return
                body = await reader.readexactly(length) if length else b""
                self._deliver(head + body, peer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except asyncio.LimitOverrunError:
            log.warning("SIP/TCP %s:%s: headers without an end; closing the connection", *peer)
        finally:
            if self._writers.get(peer) is writer:
                del self._writers[peer]
            writer.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers.values()):
            writer.close()
        for task in list(self._readers):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._readers, return_exceptions=True)
        self._writers.clear()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
