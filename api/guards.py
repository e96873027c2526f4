"""Guards in front of every route: writes authenticated by the session cookie must come from the service's own
pages, and request bodies are bounded.

The session cookie is `SameSite=Strict`, but SameSite is about sites, not origins: a page on another port of
the same host is the same site and its requests carry the cookie. So a cookie-authenticated write (and a
WebSocket upgrade) must show that the browser sent it from one of our pages: `Sec-Fetch-Site`, `Origin` or
`Referer` naming our own host. Clients that send a bearer token are not browsers riding on a cookie, and pass.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_BODY_BYTES = 1024 * 1024


def from_own_page(headers: Mapping[str, str]) -> bool:
    """Whether a browser request comes from the service's own pages; True when nothing says it came from
    elsewhere (a client that is not a browser sends none of these headers)."""
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")  # "none": typed into the address bar
    host = headers.get("host", "")
    for name in ("origin", "referer"):
        value = headers.get(name)
        if value:
            return value != "null" and urlsplit(value).netloc == host
    return True


def cookie_authenticated(headers: Mapping[str, str], cookie: str) -> bool:
    """A request the session cookie would authenticate: it carries the cookie and no bearer token."""
    has_cookie = any(part.strip().startswith(f"{cookie}=") for part in headers.get("cookie", "").split(";"))
    return has_cookie and not headers.get("authorization", "").lower().startswith("bearer ")


class CrossSiteWriteGuard:
    """Refuses (403) a cookie-authenticated write that a page of another origin sent."""

    def __init__(self, app: ASGIApp, cookie: str) -> None:
        self.app = app
        self.cookie = cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            headers = _headers(scope)
            if cookie_authenticated(headers, self.cookie) and not from_own_page(headers):
                await _problem(send, 403, "refused: a request from another site's page may not use your session")
                return
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuses (413) a request body over `max_bytes`: a declared length at once, a chunked one once it grows past
    the limit. The body is read before the route runs (and handed to it as it came), so a route never sees
    part of a body that is then refused. `larger` names the few paths (patterns) that take more, with their
    own limit (a photo upload)."""

    def __init__(
        self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, larger: Mapping[re.Pattern[str], int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = next((size for path, size in self.larger.items() if path.match(scope["path"])), self.max_bytes)
        declared = _headers(scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _problem(send, 413, f"the request body is larger than {limit} bytes")
            return
        received: list[Message] = []
        size = 0
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break  # the client left
            size += len(message.get("body", b""))
            if size > limit:
                await _problem(send, 413, f"the request body is larger than {limit} bytes")
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            # The body as it came, then the client's own messages (a streaming answer waits for its leaving).
            return received.pop(0) if received else await receive()

        await self.app(scope, replay, send)


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


async def _problem(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
