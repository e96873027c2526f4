"""The role table (core/roles.py): what each role of the supervision chain may do, and where its accounts sit."""

from __future__ import annotations

from core.roles import PERMISSIONS, Permission, Role, permits, placement_error

VIDEO = {Permission.LIVE, Permission.PLAYBACK, Permission.EXPORT}


def test_only_the_video_and_changes_a_role_needs() -> None:
    assert PERMISSIONS[Role.VIEWER] == {Permission.VIEW}  # a wall display or reviewer: no video, no change
    assert PERMISSIONS[Role.AUDITOR] == {Permission.VIEW, Permission.READ_AUDIT}
    manager = PERMISSIONS[Role.SAFETY_MANAGER]
    assert Permission.HANDLE_CASES in manager and Permission.SUPERVISE_CASES not in manager  # no self-verifying
    assert Permission.EXPORT not in manager and Permission.SPOT_CHECK not in manager
    for supervisor in (Role.CITY_INSPECTOR, Role.TOWN_OFFICER):
        assert VIDEO | {Permission.SPOT_CHECK, Permission.SUPERVISE_CASES} <= PERMISSIONS[supervisor]
        assert Permission.HANDLE_CASES not in PERMISSIONS[supervisor]  # the institution rectifies, not the town
        assert not {Permission.MANAGE_USERS, Permission.READ_AUDIT, Permission.OPERATE} & PERMISSIONS[supervisor]
    assert PERMISSIONS[Role.ADMIN] == set(Permission)


def test_an_unknown_stored_role_grants_nothing() -> None:
    assert not permits("inspector", Permission.VIEW)  # a name from before the roles, not migrated
    assert permits("town_officer", Permission.EXPORT) and not permits("viewer", Permission.LIVE)


def test_accounts_sit_where_their_role_works() -> None:
    assert placement_error(Role.TOWN_OFFICER, "town") is None
    assert placement_error(Role.TOWN_OFFICER, "subdistrict") is None
    assert placement_error(Role.SAFETY_MANAGER, "institution") is None
    assert placement_error(Role.CITY_INSPECTOR, "bureau") is None
    why = placement_error(Role.SAFETY_MANAGER, "town")
    assert why is not None and "institution" in why and "town" in why
    assert placement_error(Role.CITY_INSPECTOR, "town") is not None
    assert placement_error(Role.AUDITOR, "institution") is not None
