"""Request dependencies: the running service and the authenticated user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from core.config import CameraConfig
from core.store.users import User
from service.service import Directory, Service

SESSION_COOKIE = "vms_session"
_bearer = HTTPBearer(auto_error=False)


def get_service(request: Request) -> Service:
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(get_service)]


def session_token(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    if credentials is not None and credentials.scheme.lower() == "bearer":
        return credentials.credentials
    return request.cookies.get(SESSION_COOKIE)


def current_user(
    request: Request,
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    token = session_token(request, credentials)
    user = service.store.sessions.resolve(token) if token else None
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not logged in", headers={"WWW-Authenticate": "Bearer"})
    return user


UserDep = Annotated[User, Depends(current_user)]


def visible_cameras(directory: Directory, user: User) -> list[CameraConfig]:
    """The cameras of the user's organisation subtree, in configuration order."""
    return [cam for cam in directory.config.cameras if directory.tree.contains(user.org_unit_id, cam.institution)]


def visible_camera(directory: Directory, user: User, camera_id: str) -> CameraConfig:
    """A camera the user may see; others answer 404 exactly like cameras that do not exist."""
    for cam in visible_cameras(directory, user):
        if cam.id == camera_id:
            return cam
    raise HTTPException(status.HTTP_404_NOT_FOUND, f"no camera {camera_id!r}")


def require_bureau(service: Service, user: User, what: str) -> None:
    """403 unless the user belongs to the root unit: `what` covers every camera."""
    if user.org_unit_id != service.tree.root_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{what} cover every camera: a bureau-level account is needed")
