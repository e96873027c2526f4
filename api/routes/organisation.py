"""The organisation tree below the user's own unit, with the cameras of each institution."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from api.deps import ServiceDep, UserDep, allow
from api.responses import problems
from api.schemas import OrgNode
from core.roles import Permission

router = APIRouter(responses=problems(401, 403))


@router.get("/api/organisation", dependencies=[allow(Permission.VIEW)])
def organisation(service: ServiceDep, user: UserDep) -> OrgNode:
    directory = service.directory
    tree = directory.tree
    cameras: dict[str, list[str]] = {}
    for cam in directory.config.cameras:
        cameras.setdefault(cam.institution, []).append(cam.id)

    def node(unit_id: str) -> OrgNode:
        unit = tree.units[unit_id]
        children = [node(u.id) for u in tree.units.values() if u.parent_id == unit_id]
        return OrgNode(id=unit.id, name=unit.name, kind=unit.kind, children=children, cameras=cameras.get(unit.id, []))

    if user.org_unit_id not in tree.units:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"organisation unit {user.org_unit_id!r} is not configured")
    return node(user.org_unit_id)
