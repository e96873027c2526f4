"""Which cameras an upper platform sees: those of the organisation units it names and those it names itself,
or every camera where it names neither."""

from __future__ import annotations

from collections.abc import Callable

from core.config.uplink import PlatformConfig
from core.organisation import OrgTree


def platform_sees(platform: PlatformConfig, tree: OrgTree) -> Callable[[str, str], bool]:
    """A test of (camera id, its institution's id)."""
    units, cameras = platform.units, set(platform.cameras)
    if not units and not cameras:
        return lambda camera_id, institution_id: True
    return lambda camera_id, institution_id: (
        camera_id in cameras or any(tree.contains(unit, institution_id) for unit in units)
    )
