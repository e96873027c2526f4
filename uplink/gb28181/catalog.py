"""What an upper platform's Catalog query is answered with: the organisation units with a GB/T 28181 id as
business groups (215) and virtual organisations (216), and under them the cameras it sees that have an id.

A camera hangs under the nearest unit above it that has an id, a unit likewise, and what has none under our
platform; a unit appears only where a camera it sees lies beneath it.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Config
from core.config.gb_ids import BUSINESS_GROUP, type_code
from core.config.uplink import PlatformConfig
from core.organisation import OrgTree
from uplink.visibility import platform_sees


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    gb_id: str
    name: str
    parent_id: str
    business_group_id: str | None
    camera_id: str | None  # ours, for a camera
    institution_id: str | None
    address: str | None = None

    @property
    def is_camera(self) -> bool:
        return self.camera_id is not None


@dataclass(frozen=True, slots=True)
class Catalog:
    entries: list[CatalogEntry]
    without_id: list[str]  # cameras the platform sees that have no GB/T 28181 id, so are not in the catalog

    def camera(self, gb_id: str) -> CatalogEntry | None:
        return next((e for e in self.entries if e.gb_id == gb_id and e.is_camera), None)

    def camera_by_id(self, camera_id: str) -> CatalogEntry | None:
        """By our camera id."""
        return next((e for e in self.entries if e.camera_id == camera_id), None)

    @property
    def cameras(self) -> list[CatalogEntry]:
        return [e for e in self.entries if e.is_camera]


def build_catalog(platform: PlatformConfig, local_id: str, config: Config, tree: OrgTree) -> Catalog:
    sees = platform_sees(platform, tree)
    cameras = [c for c in config.cameras if sees(c.id, c.institution)]
    addresses = {i.id: i.address for town in config.organisation.towns for i in town.institutions}
    units: dict[str, CatalogEntry] = {}
    entries: list[CatalogEntry] = []

    def placed(unit_id: str | None) -> tuple[str, str | None]:
        """The parent id and business group of what lies in `unit_id`, adding the units above to the catalog."""
        chain = [u for u in tree.ancestors(unit_id) if u.gb_id] if unit_id else []
        group = next((u.gb_id for u in chain if u.gb_id and type_code(u.gb_id) == BUSINESS_GROUP), None)
        parent = local_id
        for unit in reversed(chain):  # top-down, so a unit's parent is listed before it
            assert unit.gb_id is not None
            if unit.gb_id not in units:
                above = [u for u in tree.ancestors(unit.id)[1:] if u.gb_id]
                own_group = next((u.gb_id for u in above if u.gb_id and type_code(u.gb_id) == BUSINESS_GROUP), None)
                units[unit.gb_id] = CatalogEntry(
                    unit.gb_id,
                    unit.name,
                    parent,
                    None if type_code(unit.gb_id) == BUSINESS_GROUP else own_group,
                    None,
                    None,
                )
            parent = unit.gb_id
        return parent, group

    without = []
    for camera in cameras:
        if camera.gb_id is None:
            without.append(camera.id)
            continue
        parent, group = placed(camera.institution)
        address = addresses.get(camera.institution)
        entries.append(CatalogEntry(camera.gb_id, camera.name, parent, group, camera.id, camera.institution, address))
    return Catalog(list(units.values()) + entries, without)
