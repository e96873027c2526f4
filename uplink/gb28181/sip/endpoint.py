"""A SIP endpoint: one transport, the client transactions we start and the server transactions we answer.

Client (RFC 3261 17.1.2): a request is sent again over UDP at T1, 2·T1, … up to T2 apart until a final response
or the time-out. Server (17.2): a request is handed to the handler once; a retransmission of it is answered with
the same response (or a 100 Trying while the handler still works on an INVITE), for 64·T1.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Literal

from uplink.gb28181.sip.message import SipParseError, SipRequest, SipResponse, response_to
from uplink.gb28181.sip.transport import Address, SipTransport, TcpTransport, UdpTransport

log = logging.getLogger(__name__)

T1 = 0.5
T2 = 4.0
ANSWER_KEPT_S = 64 * T1

Handler = Callable[[SipRequest, Address], Awaitable[SipResponse | None]]


class SipTimeout(Exception):
    """No final response in time."""


class SipEndpoint:
    def __init__(self, transport: Literal["udp", "tcp"], handler: Handler, name: str) -> None:
        kind = UdpTransport if transport == "udp" else TcpTransport
        self.transport: SipTransport = kind(self._received, self._malformed)
        self._handler = handler
        self._name = name
        self._clients: dict[tuple[str, str], asyncio.Future[SipResponse]] = {}
        # (branch, Call-ID, CSeq) → the response sent (None while the handler works), and until when it is kept
        self._answers: OrderedDict[tuple[str, str, str], tuple[SipResponse | None, float]] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def local(self) -> Address:
        return self.transport.local

    @property
    def reliable(self) -> bool:
        return self.transport.reliable

    async def open(self, host: str, port: int) -> None:
        await self.transport.open(host, port)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.transport.close()

    # --- client side -----------------------------------------------------------------------------

    async def request(self, request: SipRequest, to: Address, timeout: float = 32.0) -> SipResponse:
        """Send `request` and wait for its final response; SipTimeout if none comes, OSError if unsendable."""
        loop = asyncio.get_running_loop()
        key = (request.branch, request.method)
        future: asyncio.Future[SipResponse] = loop.create_future()
        self._clients[key] = future
        data = request.encode()
        deadline = loop.time() + timeout
        interval = T1
        try:
            await self.transport.send(data, to)
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise SipTimeout(f"no answer to {request.method} within {timeout:g} s")
                wait = remaining if self.reliable else min(interval, remaining)
                try:
                    return await asyncio.wait_for(asyncio.shield(future), wait)
                except TimeoutError:
                    if not self.reliable and deadline - loop.time() > 0:
                        await self.transport.send(data, to)
                        interval = min(interval * 2, T2)
        finally:
            self._clients.pop(key, None)

    async def send(self, message: SipRequest | SipResponse, to: Address) -> None:
        """Outside any transaction: an ACK, or a 2xx to an INVITE sent again until it is ACKed."""
        await self.transport.send(message.encode(), to)

    # --- server side -----------------------------------------------------------------------------

    def _received(self, message: SipRequest | SipResponse, source: Address) -> None:
        if isinstance(message, SipResponse):
            future = self._clients.get((message.branch, message.cseq[1]))
            if future is not None and not future.done() and message.status >= 200:
                future.set_result(message)
            return
        if message.method == "ACK":  # ends an INVITE's transaction; never answered
            self._spawn(self._handle_ack(message, source))
            return
        key = (message.branch, message.call_id, message.header("cseq") or "")
        self._forget_old()
        if key in self._answers:
            answer, _ = self._answers[key]
            if answer is not None:
                self._spawn(self._send_quietly(answer, source))
            elif message.method == "INVITE":
                self._spawn(self._send_quietly(response_to(message, 100), source))
            return
        self._answers[key] = (None, time.monotonic() + ANSWER_KEPT_S)
        self._spawn(self._answer(message, source, key))

    async def _answer(self, request: SipRequest, source: Address, key: tuple[str, str, str]) -> None:
        try:
            response = await self._handler(request, source)
        except Exception:
            log.exception("%s: %s from %s:%s failed", self._name, request.method, *source)
            response = response_to(request, 500)
        if response is None:
            self._answers.pop(key, None)
            return
        self._answers[key] = (response, time.monotonic() + ANSWER_KEPT_S)
        await self._send_quietly(response, source)

    async def _handle_ack(self, request: SipRequest, source: Address) -> None:
        try:
            await self._handler(request, source)
        except Exception:
            log.exception("%s: ACK from %s:%s failed", self._name, *source)

    def _malformed(self, error: SipParseError, source: Address) -> None:
        log.warning("%s: unusable SIP message from %s:%s: %s", self._name, *source, error)
        request = error.request
        if request is not None and request.method != "ACK":
            reason = "Bad Request - " + str(error).replace("\r", " ").replace("\n", " ")[:100]
            self._spawn(self._send_quietly(response_to(request, 400, reason), source))

    async def _send_quietly(self, message: SipRequest | SipResponse, to: Address) -> None:
        try:
            await self.transport.send(message.encode(), to)
        except OSError as error:
            log.warning("%s: cannot answer %s:%s: %s", self._name, *to, error)

    def _forget_old(self) -> None:
        now = time.monotonic()
        while self._answers:
            key, (answer, until) = next(iter(self._answers.items()))
            if until > now or answer is None:
                break
            del self._answers[key]

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
