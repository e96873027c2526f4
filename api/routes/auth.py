"""Log-in and log-out; sessions are bearer tokens, also set as an HTTP-only cookie for the web UI."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import SESSION_COOKIE, CallerDep, ServiceDep, UserDep, client_address, session_token
from api.responses import problems
from api.schemas import LoginRequest, LoginResponse, UserView
from core.store.users import User
from service.service import Service

router = APIRouter()


def _user_view(user: User) -> UserView:
    return UserView(
        username=user.username, display_name=user.display_name, org_unit_id=user.org_unit_id, role=user.role
    )


def _secure(service: Service, request: Request) -> bool:
    return service.config.server.secure_cookies or request.url.scheme == "https"


@router.post("/api/auth/login", responses=problems(401))
def login(body: LoginRequest, request: Request, response: Response, service: ServiceDep) -> LoginResponse:
    # A plain `def`: FastAPI runs it in its thread pool, away from the event loop (scrypt, SQLite).
    user = service.store.users.authenticate(body.username, body.password)
    client = client_address(request)
    if user is None:
        service.store.audit.record("login_failed", username=body.username, detail=client, client=client)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password")
    ttl = service.config.server.session_hours * 3600
    token, expires_at = service.store.sessions.open(user.id, ttl)
    service.store.audit.record("login", user_id=user.id, username=user.username, detail=client, client=client)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=int(ttl), httponly=True, samesite="strict", secure=_secure(service, request)
    )
    return LoginResponse(token=token, expires_at=expires_at, user=_user_view(user))


@router.post("/api/auth/logout", status_code=204, responses=problems(401, 403))
def logout(
    request: Request,
    response: Response,
    service: ServiceDep,
    who: CallerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))],
) -> None:
    token = session_token(request, credentials)
    if token:
        service.store.sessions.close(token)
    who.audit("logout")
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict", secure=_secure(service, request))


@router.get("/api/me", responses=problems(401))
def me(user: UserDep) -> UserView:
    return _user_view(user)
