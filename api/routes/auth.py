"""Log-in and log-out; sessions are bearer tokens, also set as an HTTP-only cookie for the web UI."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import SESSION_COOKIE, ServiceDep, UserDep, session_token
from api.schemas import LoginRequest, LoginResponse, UserView

router = APIRouter()


@router.post("/api/auth/login")
def login(body: LoginRequest, request: Request, response: Response, service: ServiceDep) -> LoginResponse:
    # A plain `def`: FastAPI runs it in its thread pool, away from the event loop (scrypt, SQLite).
    user = service.store.users.authenticate(body.username, body.password)
    client = request.client.host if request.client else None
    if user is None:
        service.store.audit.record("login_failed", username=body.username, detail=client)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password")
    ttl = service.config.server.session_hours * 3600
    token, expires_at = service.store.sessions.open(user.id, ttl)
    service.store.audit.record("login", user_id=user.id, username=user.username, detail=client)
    response.set_cookie(SESSION_COOKIE, token, max_age=int(ttl), httponly=True, samesite="strict")
    return LoginResponse(
        token=token,
        expires_at=expires_at,
        user=UserView(
            username=user.username, display_name=user.display_name, org_unit_id=user.org_unit_id, role=user.role
        ),
    )


@router.post("/api/auth/logout", status_code=204)
def logout(
    request: Request,
    response: Response,
    service: ServiceDep,
    user: UserDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))],
) -> None:
    token = session_token(request, credentials)
    if token:
        service.store.sessions.close(token)
    service.store.audit.record("logout", user_id=user.id, username=user.username)
    response.delete_cookie(SESSION_COOKIE)


@router.get("/api/me")
def me(user: UserDep) -> UserView:
    return UserView(
        username=user.username, display_name=user.display_name, org_unit_id=user.org_unit_id, role=user.role
    )
