"""The organisation tree (bureau → town → institution) and what a user at one node may see."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Config


@dataclass(frozen=True, slots=True)
class OrgUnit:
    id: str
    name: str
    kind: str  # bureau | town | park | subdistrict | institution
    parent_id: str | None
    gb_id: str | None = None  # its GB/T 28181 id, where upper platforms are to see it


class OrgTree:
    """Read-only index over the configured organisation."""

    def __init__(self, config: Config) -> None:
        org = config.organisation
        units = [OrgUnit(org.id, org.name, "bureau", None, org.gb_id)]
        for town in org.towns:
            units.append(OrgUnit(town.id, town.name, town.kind, org.id, town.gb_id))
            units += [OrgUnit(i.id, i.name, "institution", town.id, i.gb_id) for i in town.institutions]
        self.root_id = org.id
        self.units: dict[str, OrgUnit] = {u.id: u for u in units}

    def ancestors(self, unit_id: str) -> list[OrgUnit]:
        """The unit itself and every unit above it, nearest first."""
        chain = []
        current = self.units.get(unit_id)
        while current is not None:
            chain.append(current)
            current = self.units.get(current.parent_id) if current.parent_id else None
        return chain

    def contains(self, scope_id: str, unit_id: str) -> bool:
        """Whether `unit_id` lies in the subtree rooted at `scope_id`."""
        return any(u.id == scope_id for u in self.ancestors(unit_id))

    def town_of(self, institution_id: str) -> OrgUnit | None:
        unit = self.units.get(institution_id)
        return self.units.get(unit.parent_id) if unit and unit.parent_id else None
