"""The detectors this build knows: every module (or package) of `detectors/plugins/` holds one plug-in, its
`PLUGIN`. From them come the configuration's detector entry (a union discriminated by `type`), the catalogue
of violation kinds with their labels and severity, and each camera's list of detectors to run.
"""

from __future__ import annotations

import importlib
import operator
import pkgutil
from collections.abc import Sequence
from functools import reduce
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, TypeAdapter

import detectors.plugins
from core.config.models import CameraConfig, DetectorSettings
from detectors.plugin import DetectorPlugin, ViolationKind


def _discover() -> dict[str, DetectorPlugin[Any]]:
    found: dict[str, DetectorPlugin[Any]] = {}
    for module_info in sorted(pkgutil.iter_modules(detectors.plugins.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{detectors.plugins.__name__}.{module_info.name}")
        plugin = getattr(module, "PLUGIN", None)
        if not isinstance(plugin, DetectorPlugin):
            raise TypeError(f"{module.__name__} has no PLUGIN (a DetectorPlugin instance)")
        if plugin.type in found:
            raise TypeError(f"{module.__name__}: detector type {plugin.type!r} is registered twice")
        found[plugin.type] = plugin
    return found


PLUGINS: dict[str, DetectorPlugin[Any]] = _discover()
KINDS: dict[str, ViolationKind] = {kind.type: kind for plugin in PLUGINS.values() for kind in plugin.kinds}

if TYPE_CHECKING:
    DetectorEntry = DetectorSettings
else:
    # One settings model per plug-in, told apart by `type`; pydantic reports an unknown type with the known ones.
    DetectorEntry = Annotated[reduce(operator.or_, (p.settings for p in PLUGINS.values())), Field(discriminator="type")]

_ENTRIES: TypeAdapter[list[DetectorSettings]] = TypeAdapter(list[DetectorEntry])


def detector_settings(entries: Sequence[dict[str, Any]]) -> list[DetectorSettings]:
    """Detector entries written as in a camera's `detectors:`; raises pydantic's ValidationError."""
    return _ENTRIES.validate_python(list(entries))


def label(kind: str) -> str:
    """The Chinese name of a violation kind (the kind itself for one no plug-in declares)."""
    known = KINDS.get(kind)
    return known.zh if known else kind


def camera_detectors(camera: CameraConfig) -> list[tuple[DetectorPlugin[Any], DetectorSettings]]:
    """What runs on `camera`: its enabled entries, and the plug-ins that run by default where it names none."""
    chosen: list[tuple[DetectorPlugin[Any], DetectorSettings]] = []
    for plugin in PLUGINS.values():
        entries = [entry for entry in camera.detectors if entry.type == plugin.type]
        if not entries:
            default = plugin.default(camera)
            entries = [default] if default is not None else []
        chosen += [(plugin, entry) for entry in entries if entry.enabled]
    return chosen


def runs_analysis(camera: CameraConfig) -> bool:
    """Whether anything is analysed on this camera: a configured detector, or one that runs by default."""
    return bool(camera_detectors(camera))
