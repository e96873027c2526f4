"""Authentication for WebSocket routes, which have no Request for the HTTP dependencies to read."""

from __future__ import annotations

from fastapi import WebSocket

from api.deps import SESSION_COOKIE, user_of_token
from core.store.users import User
from service.service import Service


def websocket_user(websocket: WebSocket, service: Service) -> User | None:
    """The user of the session cookie (browsers) or of an `Authorization: Bearer` header (other clients)."""
    token = websocket.cookies.get(SESSION_COOKIE)
    header = websocket.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
    return user_of_token(service, token) if token else None
