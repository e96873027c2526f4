"""Request dependencies: the running service, the caller, and the camera a request is about, resolved, scoped
to the caller's organisation unit and audited in one place."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from core.config import CameraConfig
from core.roles import Permission, permits
from core.store.api_tokens import TOKEN_PREFIX
from core.store.audit import AuditRepository
from core.store.users import User
from service.service import Directory, Service

SESSION_COOKIE = "vms_session"
# SQLite's integers are 64-bit signed: larger ids cannot name a row, and must not reach it (OverflowError).
MAX_ROW_ID = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="a row id")]

_bearer = HTTPBearer(auto_error=False, description="a session token from POST /api/auth/login")


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def session_token(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    if credentials is not None and credentials.scheme.lower() == "bearer":
        return credentials.credentials
    return request.cookies.get(SESSION_COOKIE)


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def user_of_token(service: Service, token: str) -> User | None:
    """The user a session token or an API token stands for, while it is valid."""
    if token.startswith(TOKEN_PREFIX):
        return service.store.api_tokens.resolve(token)
    return service.store.sessions.resolve(token)


def current_user(
    request: Request,
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    token = session_token(request, credentials)
    user = user_of_token(service, token) if token else None
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not logged in", headers={"WWW-Authenticate": "Bearer"})
    return user


UserDep = Annotated[User, Depends(current_user)]


@dataclass(frozen=True)
class Caller:
    """Who asks, from where; `audit` is how every audited action of the API is written."""

    user: User
    client: str | None
    audit_log: AuditRepository

    def audit(
        self,
        action: str,
        target: str | None = None,
        detail: str | None = None,
        *,
        start: float | None = None,
        end: float | None = None,
    ) -> None:
        """One row of the audit log; `start`/`end`: the time range the action concerns (a playback's or an
        export's requested range, a live view's span)."""
        self.audit_log.record(
            action,
            user_id=self.user.id,
            username=self.user.username,
            target=target,
            detail=detail,
            client=self.client,
            start=start,
            end=end,
        )

    async def audit_async(
        self,
        action: str,
        target: str | None = None,
        detail: str | None = None,
        *,
        start: float | None = None,
        end: float | None = None,
    ) -> None:
        await asyncio.to_thread(partial(self.audit, action, target, detail, start=start, end=end))


def caller(request: Request, service: ServiceDep, user: UserDep) -> Caller:
    return Caller(user, client_address(request), service.store.audit)


CallerDep = Annotated[Caller, Depends(caller)]


def visible_cameras(directory: Directory, user: User) -> list[CameraConfig]:
    """The cameras of the user's organisation subtree, in configuration order."""
    return [cam for cam in directory.config.cameras if directory.tree.contains(user.org_unit_id, cam.institution)]


def visible_institutions(directory: Directory, user: User) -> list[str]:
    """The institutions of the user's organisation subtree."""
    tree = directory.tree
    return [u.id for u in tree.units.values() if u.kind == "institution" and tree.contains(user.org_unit_id, u.id)]


def visible_camera(directory: Directory, user: User, camera_id: str) -> CameraConfig:
    """A camera the user may see; others answer 404 exactly like cameras that do not exist."""
    for cam in visible_cameras(directory, user):
        if cam.id == camera_id:
            return cam
    raise HTTPException(status.HTTP_404_NOT_FOUND, f"no camera {camera_id!r}")


@dataclass(frozen=True)
class CameraAccess:
    """A camera the caller may see, with the configuration it was resolved against (one consistent view for
    the whole request, across a reload); `audit` records what the caller does with it."""

    camera: CameraConfig
    caller: Caller
    directory: Directory

    @property
    def id(self) -> str:
        return self.camera.id

    def audit(
        self, action: str, detail: str | None = None, *, start: float | None = None, end: float | None = None
    ) -> None:
        self.caller.audit(action, self.camera.id, detail, start=start, end=end)

    async def audit_async(
        self, action: str, detail: str | None = None, *, start: float | None = None, end: float | None = None
    ) -> None:
        await self.caller.audit_async(action, self.camera.id, detail, start=start, end=end)


def camera_access(
    camera_id: Annotated[str, Path(description="a camera id", max_length=64)], service: ServiceDep, who: CallerDep
) -> CameraAccess:
    directory = service.directory
    return CameraAccess(visible_camera(directory, who.user, camera_id), who, directory)


CameraDep = Annotated[CameraAccess, Depends(camera_access)]


class PermissionCheck:
    """A route's permission: a dependency that answers 403 to a caller whose role lacks it.

    Every authenticated route depends on exactly one of these (through `require`, `camera_for` or `allow`); the scope
    matrix test reads `permission` off the route table, so a route added without one fails it.
    """

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __call__(self, who: CallerDep) -> Caller:
        if not permits(who.user.role, self.permission):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"your role ({who.user.role}) may not do this: it needs {self.permission}"
            )
        return who


class CameraPermissionCheck(PermissionCheck):
    """A camera route's permission: the camera must be in the caller's scope (else 404) and the role must
    carry the permission (else 403)."""

    def __call__(  # type: ignore[override]
        self,
        camera_id: Annotated[str, Path(description="a camera id", max_length=64)],
        service: ServiceDep,
        who: CallerDep,
    ) -> CameraAccess:
        access = camera_access(camera_id, service, who)
        return CameraAccess(access.camera, super().__call__(who), access.directory)


_checks: dict[Permission, PermissionCheck] = {}
_camera_checks: dict[Permission, CameraPermissionCheck] = {}


def require(permission: Permission) -> PermissionCheck:
    """The dependency checking `permission` (one instance per permission, so FastAPI caches it per request)."""
    return _checks.setdefault(permission, PermissionCheck(permission))


def camera_for(permission: Permission) -> CameraPermissionCheck:
    return _camera_checks.setdefault(permission, CameraPermissionCheck(permission))


def allow(permission: Permission) -> Any:
    """For a route's `dependencies=[...]`, where the route reads the caller some other way."""
    return Depends(require(permission))


def route_permission(dependant: Dependant) -> Permission | None:
    """The permission a route's dependencies check (depth first), or None for a public route."""
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, PermissionCheck):
            return dependency.call.permission
        found = route_permission(dependency)
        if found is not None:
            return found
    return None


ViewerDep = Annotated[Caller, Depends(require(Permission.VIEW))]
ViewCameraDep = Annotated[CameraAccess, Depends(camera_for(Permission.VIEW))]
LiveCameraDep = Annotated[CameraAccess, Depends(camera_for(Permission.LIVE))]
PlaybackCameraDep = Annotated[CameraAccess, Depends(camera_for(Permission.PLAYBACK))]
ExportCameraDep = Annotated[CameraAccess, Depends(camera_for(Permission.EXPORT))]


def require_bureau(service: Service, user: User, what: str) -> None:
    """403 unless the user belongs to the root unit: `what` covers every camera."""
    if user.org_unit_id != service.tree.root_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{what} cover every camera: a bureau-level account is needed")
