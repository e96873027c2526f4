"""Where one session's RTP goes: a UDP socket, or a TCP connection we open (active) or accept (passive), the
packets framed by RFC 4571. Blocking sockets, used from the session's media thread only."""

from __future__ import annotations

import errno
import socket

from media.rtp import rfc4571
from uplink.gb28181.sdp import MediaTransport

SEND_TIMEOUT_S = 5.0  # a TCP receiver that takes nothing for this long has gone


class ChannelClosed(Exception):
    """The receiving side went away; the message says how."""


class RtpChannel:
    def __init__(self, transport: MediaTransport, local_host: str, remote: tuple[str, int]) -> None:
        self.transport = transport
        self.remote = remote
        self._socket: socket.socket | None = None
        self._listener: socket.socket | None = None
        if transport == "udp":
            self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._socket.bind((local_host, 0))
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
            self.local_port = self._socket.getsockname()[1]
        elif transport == "tcp-passive":
            self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._listener.bind((local_host, 0))
            self._listener.listen(1)
            self.local_port = self._listener.getsockname()[1]
        else:
            self.local_port = 9  # RFC 4145: the discard port, for an active side that announces none

    @property
    def connected(self) -> bool:
        return self._socket is not None and (self.transport == "udp" or self._listener is None)

    def connect(self, timeout: float) -> None:
        """TCP: connect to the platform, or take its connection; UDP: nothing to do."""
        if self.transport == "udp" or self.connected:
            return
        try:
            if self.transport == "tcp-active":
                self._socket = socket.create_connection(self.remote, timeout=timeout)
            else:
                assert self._listener is not None
                self._listener.settimeout(timeout)
                self._socket, _ = self._listener.accept()
                self._listener.close()
                self._listener = None
        except TimeoutError:
            raise ChannelClosed(f"no TCP media connection within {timeout:g} s") from None
        except OSError as error:
            raise ChannelClosed(f"TCP media connection failed: {error.strerror or error}") from None
        self._socket.settimeout(SEND_TIMEOUT_S)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, packets: list[bytes]) -> int:
        """Sends RTP packets; returns the bytes put on the wire. ChannelClosed where the receiver is gone."""
        if self._socket is None:
            raise ChannelClosed("the media channel is not connected")
        if self.transport == "udp":
            sent = 0
            for packet in packets:
                try:
                    sent += self._socket.sendto(packet, self.remote)
                except OSError as error:
                    # A receiver that is not (yet) listening answers with ICMP: the datagram is lost, as UDP
                    # datagrams may be; the session goes on until the platform says BYE.
                    if error.errno not in (errno.ECONNREFUSED, errno.ENOBUFS, errno.EAGAIN):
                        raise ChannelClosed(f"UDP send failed: {error.strerror or error}") from None
            return sent
        data = b"".join(rfc4571(packet) for packet in packets)
        try:
            self._socket.sendall(data)
        except TimeoutError:
            raise ChannelClosed(f"the platform took no media for {SEND_TIMEOUT_S:g} s") from None
        except OSError as error:
            raise ChannelClosed(f"the TCP media connection ended: {error.strerror or error}") from None
        return len(data)

    def abort(self) -> None:
        """From another thread: wakes a send or accept in progress, which then fails (the thread closes)."""
        for sock in (self._socket, self._listener):
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # not connected (UDP), or closed meanwhile

    def close(self) -> None:
        for sock in (self._socket, self._listener):
            if sock is not None:
                sock.close()
        self._socket = self._listener = None
