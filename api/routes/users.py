"""Accounts, managed by administrators: who may log in, with which role, over which part of the organisation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status

from api.deps import Caller, RowId, ServiceDep, ViewerDep, require
from api.responses import problems
from api.routes.auth import user_view
from api.user_schemas import AccountView, NewUser, PasswordReset, RoleView, UserChange
from core.roles import LABELS, PERMISSIONS, UNIT_KINDS, Permission, Role, placement_error, role_of
from core.store.users import User, UserExists
from service.service import Service

router = APIRouter(responses=problems(401, 403))

AdminDep = Annotated[Caller, Depends(require(Permission.MANAGE_USERS))]


def _account(service: Service, user: User) -> AccountView:
    return AccountView(
        **user_view(user).model_dump(),
        disabled=user.disabled,
        locked_until=service.store.login_throttle.locked_until(user.username),
    )


def _managed(service: Service, who: Caller, user_id: int) -> User:
    """An account in the administrator's organisation subtree; others answer 404 like missing ones."""
    user = service.store.users.get(user_id)
    if user is None or not service.tree.contains(who.user.org_unit_id, user.org_unit_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no user {user_id}")
    return user


def _check_placement(service: Service, who: Caller, role: Role, unit_id: str) -> None:
    tree = service.tree
    unit = tree.units.get(unit_id)
    if unit is None or not tree.contains(who.user.org_unit_id, unit_id):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"org_unit_id: no organisation unit {unit_id!r}")
    why = placement_error(role, unit.kind)
    if why is not None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"role: {why}")


@router.get("/api/roles")
def roles(who: ViewerDep) -> list[RoleView]:
    """Every role: its label, the permissions it carries and the unit kinds its accounts belong to."""
    return [
        RoleView(
            role=role.value,
            label=LABELS[role],
            permissions=sorted(PERMISSIONS[role]),
            unit_kinds=sorted(UNIT_KINDS[role]),
        )
        for role in Role
    ]


@router.get("/api/users")
def list_users(service: ServiceDep, who: AdminDep) -> list[AccountView]:
    tree = service.tree
    return [
        _account(service, user)
        for user in service.store.users.all()
        if tree.contains(who.user.org_unit_id, user.org_unit_id)
    ]


@router.post("/api/users", status_code=201, responses=problems(409))
def create_user(body: NewUser, service: ServiceDep, who: AdminDep) -> AccountView:
    _check_placement(service, who, body.role, body.org_unit_id)
    try:
        user = service.store.users.create(
            body.username, body.password, body.org_unit_id, role=body.role, display_name=body.display_name
        )
    except UserExists:
        raise HTTPException(status.HTTP_409_CONFLICT, f"a user {body.username!r} exists already") from None
    who.audit("user.created", f"user:{user.username}", f"{user.role} at {user.org_unit_id}")
    return _account(service, user)


@router.get("/api/users/{user_id}", responses=problems(404))
def get_user(user_id: RowId, service: ServiceDep, who: AdminDep) -> AccountView:
    return _account(service, _managed(service, who, user_id))


@router.patch("/api/users/{user_id}", responses=problems(404, 409))
def change_user(user_id: RowId, body: UserChange, service: ServiceDep, who: AdminDep) -> AccountView:
    """Change an account; a new role, unit or a disabling ends its sessions at once."""
    user = _managed(service, who, user_id)
    if user.id == who.user.id and (
        body.disabled
        or (body.role is not None and body.role != user.role)
        or (body.org_unit_id is not None and body.org_unit_id != user.org_unit_id)
    ):
        # An administrator who locks themselves out, or narrows their own reach, needs another to undo it.
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "you cannot disable your own account or change your own role or unit: ask another administrator",
        )
    role = body.role or role_of(user.role)
    unit = body.org_unit_id or user.org_unit_id
    if body.role is not None or body.org_unit_id is not None:
        if role is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "role: give the account one of today's roles")
        _check_placement(service, who, role, unit)
    changed = service.store.users.update(
        user.id,
        display_name=body.display_name,
        # Only what differs: a role or unit "changed" to itself must not end the user's sessions.
        org_unit_id=body.org_unit_id if body.org_unit_id != user.org_unit_id else None,
        role=body.role if body.role != user.role else None,
        disabled=body.disabled,
    )
    if body.unlock:
        service.store.login_throttle.clear(user.username)
    assert changed is not None
    what = body.model_dump(exclude_none=True, exclude_defaults=True)
    who.audit("user.changed", f"user:{user.username}", ", ".join(f"{k}={v}" for k, v in sorted(what.items())))
    return _account(service, changed)


@router.post("/api/users/{user_id}/password", status_code=204, responses=problems(404, 409))
def reset_password(user_id: RowId, body: PasswordReset, service: ServiceDep, who: AdminDep) -> None:
    """Set a new password; the account's sessions and API tokens end."""
    user = _managed(service, who, user_id)
    if user.id == who.user.id:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "change your own password with POST /api/me/password (it asks for the current one)",
        )
    service.store.users.set_password(user.username, body.password)
    who.audit("user.password_reset", f"user:{user.username}")
