"""One end of the socket between the service process and a worker: messages in order, each end reading in a
thread of its own and sending through a queue, so neither a slow peer nor a stopped one ever blocks the sender's
event loop or its camera threads."""

from __future__ import annotations

import logging
import queue
import threading
from multiprocessing.connection import Connection
from typing import Any

log = logging.getLogger(__name__)

_CLOSE = object()


class LinkClosed(Exception):
    """The other end is gone (it exited, was killed, or closed the socket)."""


class Link:
    def __init__(self, fd: int, name: str) -> None:
        self._conn = Connection(fd)
        self._outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._closed = threading.Event()
        self._sender = threading.Thread(target=self._send_loop, name=f"{name}-send", daemon=True)
        self._sender.start()

    def send(self, message: Any) -> None:
        """Queue `message`; never waits. After the link closed, messages are dropped."""
        if not self._closed.is_set():
            self._outbox.put(message)

    @property
    def backlog(self) -> int:
        """Messages queued and not yet written: what a sender of bulk data checks before adding more."""
        return self._outbox.qsize()

    def recv(self) -> Any:
        """Blocking: the next message; LinkClosed when the other end is gone."""
        try:
            return self._conn.recv()
        except (EOFError, OSError) as error:
            self._closed.set()
            raise LinkClosed(str(error) or "end of stream") from None

    def close(self) -> None:
        """Stop sending and let the socket go; called by the reading thread once `recv` said the peer is gone."""
        self._closed.set()
        self._outbox.put(_CLOSE)
        self._sender.join(1.0)
        self._conn.close()

    def flush_and_close(self, timeout: float = 5.0) -> None:
        """Send what is queued, then close (a worker's last answer before it exits)."""
        self._outbox.put(_CLOSE)
        self._sender.join(timeout)
        self._closed.set()
        self._conn.close()

    def _send_loop(self) -> None:
        while True:
            message = self._outbox.get()
            if message is _CLOSE:
                break
            try:
                self._conn.send(message)
            except (OSError, ValueError):
                self._closed.set()  # the other end went; whoever reads learns it from recv
                break
            except Exception:
                log.exception("link: a message could not be sent: %r", type(message).__name__)
