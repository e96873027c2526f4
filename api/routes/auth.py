"""Log-in and log-out, the caller's own account and their API tokens.

Sessions are bearer tokens, also set as an HTTP-only cookie for the web UI. A log-in is refused before its
password is checked once the account has met too many wrong passwords (lock-out) or the client address too many
failures (rate limit): 429 with `Retry-After`, the same for names that exist and names that do not.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import SESSION_COOKIE, RowId, ServiceDep, ViewerDep, client_address, session_token
from api.responses import problems
from api.user_schemas import (
    ApiTokenView,
    CreatedApiToken,
    LoginRequest,
    LoginResponse,
    NewApiToken,
    PasswordChange,
    UserView,
)
from core.roles import LABELS, PERMISSIONS, role_of
from core.store.api_tokens import ApiToken
from core.store.users import User
from service.service import Service

router = APIRouter()


def user_view(user: User) -> UserView:
    role = role_of(user.role)
    return UserView(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        org_unit_id=user.org_unit_id,
        role=user.role,
        role_label=LABELS[role] if role else None,
        permissions=sorted(PERMISSIONS[role]) if role else [],
    )


def _secure(service: Service, request: Request) -> bool:
    return service.config.server.secure_cookies or request.url.scheme == "https"


@router.post("/api/auth/login", responses=problems(401, 429))
def login(body: LoginRequest, request: Request, response: Response, service: ServiceDep) -> LoginResponse:
    # A plain `def`: FastAPI runs it in its thread pool, away from the event loop (scrypt, SQLite).
    store = service.store
    client = client_address(request)
    refusal = store.login_throttle.refusal(body.username, client)
    if refusal is not None:
        store.audit.record("login_refused", username=body.username, detail=refusal.reason, client=client)
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, refusal.reason, headers={"Retry-After": str(refusal.retry_after_s)}
        )
    user = store.users.authenticate(body.username, body.password)
    if user is None:
        store.audit.record("login_failed", username=body.username, detail=client, client=client)
        if store.login_throttle.failed(body.username, client):
            store.audit.record("login_locked", username=body.username, detail=client, client=client)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password")
    store.login_throttle.clear(body.username)
    ttl = service.config.server.session_hours * 3600
    token, expires_at = store.sessions.open(user.id, ttl)
    store.audit.record("login", user_id=user.id, username=user.username, detail=client, client=client)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=int(ttl), httponly=True, samesite="strict", secure=_secure(service, request)
    )
    return LoginResponse(token=token, expires_at=expires_at, user=user_view(user))


@router.post("/api/auth/logout", status_code=204, responses=problems(401, 403))
def logout(
    request: Request,
    response: Response,
    service: ServiceDep,
    who: ViewerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))],
) -> None:
    token = session_token(request, credentials)
    if token:
        service.store.sessions.close(token)
    who.audit("logout")
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict", secure=_secure(service, request))


@router.get("/api/me", responses=problems(401))
def me(who: ViewerDep) -> UserView:
    """The caller's account, role and the permissions it carries (the UI shows what these allow)."""
    return user_view(who.user)


@router.post("/api/me/password", status_code=204, responses=problems(400))
def change_password(body: PasswordChange, service: ServiceDep, who: ViewerDep) -> None:
    """Change one's own password; every session and API token of the account ends (log in again)."""
    users = service.store.users
    if users.authenticate(who.user.username, body.current_password) is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the current password is wrong")
    users.set_password(who.user.username, body.new_password)
    who.audit("user.password_changed", f"user:{who.user.username}")


def _token_view(token: ApiToken) -> ApiTokenView:
    return ApiTokenView(
        id=token.id,
        name=token.name,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


@router.get("/api/me/tokens")
def list_tokens(service: ServiceDep, who: ViewerDep) -> list[ApiTokenView]:
    """The caller's API tokens (never their secrets)."""
    return [_token_view(token) for token in service.store.api_tokens.of_user(who.user.id)]


@router.post("/api/me/tokens", status_code=201)
def create_token(body: NewApiToken, service: ServiceDep, who: ViewerDep) -> CreatedApiToken:
    """A token for a machine client, acting as the caller with their role and scope: send it as
    `Authorization: Bearer ...`. The secret is in this answer only."""
    ttl = None if body.expires_in_days is None else body.expires_in_days * 86400.0
    secret, token = service.store.api_tokens.create(who.user.id, body.name, ttl)
    who.audit("api_token.created", f"user:{who.user.username}", f"{token.id} {token.name}")
    return CreatedApiToken(token=secret, **_token_view(token).model_dump())


@router.delete("/api/me/tokens/{token_id}", status_code=204, responses=problems(404))
def revoke_token(token_id: RowId, service: ServiceDep, who: ViewerDep) -> None:
    tokens = service.store.api_tokens
    token = tokens.get(token_id)
    if token is None or token.user_id != who.user.id or token.revoked_at is not None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no active API token {token_id}")
    tokens.revoke(token_id)
    who.audit("api_token.revoked", f"user:{who.user.username}", f"{token.id} {token.name}")
