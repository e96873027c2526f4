"""The detectors this build knows: every module (or package) of `detectors/plugins/` holds one plug-in, its
`PLUGIN`. From them come the configuration's detector entry (a union discriminated by `type`), the catalogue
of violation kinds with their labels and severity, and each camera's list of detectors to run.
"""

from __future__ import annotations

import importlib
import operator
import pkgutil
from collections.abc import Iterable, Sequence
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
_BUILT_IN = {kind.type: kind for plugin in PLUGINS.values() for kind in plugin.kinds}
# The catalogue: the plug-ins' kinds, and those the configuration declares (`declare_kinds`), kept once declared
# because violations of them stay in the store.
KINDS: dict[str, ViolationKind] = dict(_BUILT_IN)

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


def declared_kinds(cameras: Iterable[CameraConfig]) -> dict[str, ViolationKind]:
    """The kinds the cameras' detector entries declare beyond the plug-ins' own (an operator's model mapping its
    classes onto kinds named in the configuration); ValueError naming the camera and the kind where one would
    mean something other than a kind of that name already does."""
    declared: dict[str, ViolationKind] = {}
    for camera in cameras:
        for entry in camera.detectors:
            plugin = PLUGINS.get(entry.type)
            for kind in plugin.declared_kinds(entry) if plugin else ():
                known = _BUILT_IN.get(kind.type) or declared.get(kind.type)
                if known is not None and known != kind:
                    raise ValueError(
                        f"camera {camera.id!r}: violation type {kind.type!r} is already {known.zh} ({known.en}, "
                        f"{known.severity}); map the class onto it without labels, or name a new type"
                    )
                declared[kind.type] = kind
    return declared


def declare_kinds(cameras: Iterable[CameraConfig]) -> None:
    """Add the kinds the cameras declare to the catalogue (`KINDS`)."""
    KINDS.update(declared_kinds(cameras))


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
