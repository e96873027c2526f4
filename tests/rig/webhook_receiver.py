"""An upper platform's event endpoint for the tests: verifies each message's Standard Webhooks signature with the
`standardwebhooks` package, keeps what it took (dropping repeats by id, as a platform would), and misbehaves on
request: refuses, fails, answers late."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    id: str
    body: dict[str, Any]
    at: float


@dataclass
class WebhookReceiver:
    secret: str
    # What to answer a message: (status, delay in seconds); by default 200 at once.
    answer: Callable[[str, dict[str, Any]], tuple[int, float]] = lambda message_id, body: (200, 0.0)
    taken: list[Received] = field(default_factory=list)  # accepted, repeats dropped, in order of arrival
    attempts: int = 0
    repeats: int = 0
    bad_signatures: int = 0
    port: int = 0  # 0: any free one

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                status, delay = receiver._take(dict(self.headers.items()), body)
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("content-length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except OSError:
                    pass  # the sender gave up waiting

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/events"

    def _take(self, headers: dict[str, str], body: bytes) -> tuple[int, float]:
        with self._lock:
            self.attempts += 1
        try:
            payload = Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError:
            with self._lock:
                self.bad_signatures += 1
            return 401, 0.0
        message_id = {k.lower(): v for k, v in headers.items()}["webhook-id"]
        status, delay = self.answer(message_id, payload)
        if 200 <= status < 300 and not delay:
            with self._lock:
                if message_id in self._seen:
                    self.repeats += 1
                else:
                    self._seen.add(message_id)
                    self.taken.append(Received(message_id, payload, time.time()))
        return status, delay

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def event_id(message_id: str) -> int:
    """The service's event id in a message id (`msg_<installation>_<event id>`)."""
    return int(message_id.rsplit("_", 1)[1])


def bodies(taken: list[Received]) -> list[dict[str, Any]]:
    return [json.loads(json.dumps(r.body)) for r in taken]
