"""detectors/registry.py: the plug-ins found in detectors/plugins/, the union of their settings, their kinds."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.config.models import CameraConfig, SourceConfig
from detectors.plugin import SEVERITIES
from detectors.plugins.blocked_route import BlockedRouteSettings
from detectors.plugins.tamper.settings import TamperSettings
from detectors.registry import KINDS, PLUGINS, camera_detectors, detector_settings, label, runs_analysis


def test_every_plugin_declares_its_settings_and_kinds_once() -> None:
    assert set(PLUGINS) >= {"blocked_route", "tamper"}
    for name, plugin in PLUGINS.items():
        assert plugin.settings.model_fields["type"].default == name
        assert plugin.kinds, name
    for kind in KINDS.values():
        assert kind.zh and kind.en and kind.severity in SEVERITIES
    assert label("blocked_route") == "消防通道占用" and label("something else") == "something else"


def test_a_detector_entry_is_its_plugins_own_settings_model() -> None:
    route, tamper = detector_settings(
        [
            {
                "type": "blocked_route",
                "zones": [{"name": "z", "points": [[0, 0], [1, 0], [1, 1]]}],
                "params": {"dwell_s": 30},
            },
            {"type": "tamper", "params": {"video_loss_s": 5}},
        ]
    )
    assert isinstance(route, BlockedRouteSettings) and route.params.dwell_s == 30 and route.params.threshold == 0.25
    assert isinstance(tamper, TamperSettings) and tamper.params.video_loss_s == 5
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        detector_settings([{"type": "smoke"}])


def _camera(*detectors: object, role: str = "gate") -> CameraConfig:
    return CameraConfig(
        id="c",
        name="c",
        institution="i",
        role=role,
        source=SourceConfig(url="x.mp4"),  # type: ignore[arg-type]
        detectors=list(detectors),
    )  # type: ignore[arg-type]


def test_camera_health_runs_everywhere_unless_switched_off() -> None:
    assert [plugin.type for plugin, _ in camera_detectors(_camera())] == ["tamper"]
    assert not runs_analysis(_camera(TamperSettings(enabled=False)))
    route = BlockedRouteSettings(zones=[{"name": "z", "points": [(0, 0), (1, 0), (1, 1)]}])  # type: ignore[list-item]
    assert [plugin.type for plugin, _ in camera_detectors(_camera(route))] == ["blocked_route", "tamper"]
