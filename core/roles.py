"""Who may do what: the roles of the supervision chain, the permissions each carries, and where each may sit.

A user holds one role and belongs to one organisation unit; the role says *what* they may do, the unit says
*where* (its subtree). Every API route names the one permission it needs (api/deps.py), so a role's reach is
read here and nowhere else.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    VIEW = "view"  # cameras, their health and detectors, violations and cases, statistics: no video
    LIVE = "live"  # live view (WebRTC, fMP4, MJPEG) and snapshots
    PLAYBACK = "playback"  # recorded video and its pictures, violation clips
    EXPORT = "export"  # clip export and download
    SPOT_CHECK = "spot_check"  # remote spot checks, hazards recorded during them
    HANDLE_CASES = "handle_cases"  # acknowledge, rectify with evidence, comment: the institution's side
    SUPERVISE_CASES = "supervise_cases"  # assign, verify, dismiss, triage public reports: the supervisor's side
    PLAN_INSPECTIONS = "plan_inspections"  # inspection plans and their results
    READ_AUDIT = "read_audit"  # the audit log, its export and verification
    MANAGE_USERS = "manage_users"  # accounts, roles, API tokens of others
    OPERATE = "operate"  # storage, metrics, uplink deliveries and pushes: running the service


class Role(StrEnum):
    ADMIN = "admin"  # 系统管理员
    CITY_INSPECTOR = "city_inspector"  # 市/县局督查员: every town
    TOWN_OFFICER = "town_officer"  # 镇(街道)民政干部: own town
    SAFETY_MANAGER = "safety_manager"  # 机构安全管理员: own institution
    AUDITOR = "auditor"  # 审计员: reads the audit log
    VIEWER = "viewer"  # 只读账户: states and lists (a wall display, a reviewer), no video, changes nothing


_SUPERVISOR = frozenset(
    {
        Permission.VIEW,
        Permission.LIVE,
        Permission.PLAYBACK,
        Permission.EXPORT,
        Permission.SPOT_CHECK,
        Permission.SUPERVISE_CASES,
        Permission.PLAN_INSPECTIONS,
    }
)

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.CITY_INSPECTOR: _SUPERVISOR,
    Role.TOWN_OFFICER: _SUPERVISOR,
    Role.SAFETY_MANAGER: frozenset({Permission.VIEW, Permission.LIVE, Permission.PLAYBACK, Permission.HANDLE_CASES}),
    Role.AUDITOR: frozenset({Permission.VIEW, Permission.READ_AUDIT}),
    Role.VIEWER: frozenset({Permission.VIEW}),
}

# The unit kinds a role's account may belong to: a town officer's scope is a town, and so on.
TOWN_KINDS = frozenset({"town", "park", "subdistrict"})
UNIT_KINDS: dict[Role, frozenset[str]] = {
    Role.ADMIN: frozenset({"bureau"}) | TOWN_KINDS,  # a town's administrator manages its own subtree
    Role.CITY_INSPECTOR: frozenset({"bureau"}),
    Role.TOWN_OFFICER: TOWN_KINDS,
    Role.SAFETY_MANAGER: frozenset({"institution"}),
    Role.AUDITOR: frozenset({"bureau"}),
    Role.VIEWER: frozenset({"bureau", "institution"}) | TOWN_KINDS,
}

LABELS: dict[Role, str] = {
    Role.ADMIN: "系统管理员",
    Role.CITY_INSPECTOR: "督查员(局)",
    Role.TOWN_OFFICER: "镇街民政干部",
    Role.SAFETY_MANAGER: "机构安全管理员",
    Role.AUDITOR: "审计员",
    Role.VIEWER: "只读账户",
}


def role_of(name: str) -> Role | None:
    """The role a stored name stands for; None for a name this version does not know (it grants nothing)."""
    try:
        return Role(name)
    except ValueError:
        return None


def permits(role: str, permission: Permission) -> bool:
    known = role_of(role)
    return known is not None and permission in PERMISSIONS[known]


def placement_error(role: Role, unit_kind: str) -> str | None:
    """Why an account of `role` cannot belong to a unit of `unit_kind`, or None when it can."""
    if unit_kind in UNIT_KINDS[role]:
        return None
    kinds = "/".join(sorted(UNIT_KINDS[role]))
    return f"a {role.value} account belongs to a {kinds} unit, not a {unit_kind}"
