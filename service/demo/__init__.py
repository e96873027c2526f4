"""Embedded defaults: a demo county whose cameras play scenes generated on first start, so that a newcomer
sees what the product is for within minutes: people pass a gate, the person on duty leaves the duty room,
cooks work in a kitchen, and on an evacuation route a box is left standing, which raises 消防通道占用 with its
snapshot and evidence clip.

This is what `vms run` uses without a configuration file.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from core.config import Config
from service.configuration import parse_config
from service.demo.scenes import FLOOR_ZONE, Scene, Thing, Walker, encode, people

log = logging.getLogger(__name__)

ROUTE_DWELL_S = 20.0  # shorter than a deployment's minute, so the demo shows its violation soon


def _scenes() -> list[tuple[str, str, str, str, Scene]]:
    """(camera id, name, institution, role, scene); each clip loops as the camera's video."""
    white = (235, 235, 235)
    return [
        ("hl-jly-gate", "大门", "hl-jly", "gate", Scene("demo-gate", 60, place="gate", walkers=people(60, every=6))),
        (
            "hl-jly-duty",
            "值班室（消防控制室）",
            "hl-jly",
            "duty_room",
            # The person on duty sits at the desk, then leaves the room for the rest of the loop.
            Scene(
                "demo-duty",
                90,
                place="duty_room",
                walkers=(Walker(0, 40, 0.55, 0.55, y=0.92, colour=(40, 60, 90)), Walker(40, 45, 0.55, 1.0, y=0.92)),
            ),
        ),
        (
            "hl-jly-exit-1",
            "一楼疏散通道",
            "hl-jly",
            "evacuation_route",
            # People walk through; a box is left on the route from 25 s to 80 s.
            Scene("demo-route", 120, walkers=people(120, every=8), things=(Thing(25, 80),)),
        ),
        (
            "ny-jly-kitchen",
            "厨房烹饪区",
            "ny-jly",
            "kitchen",
            Scene(
                "demo-kitchen",
                60,
                place="kitchen",
                walkers=(Walker(0, 60, 0.30, 0.34, y=0.95, colour=white), *people(60, every=9, colour=white)),
            ),
        ),
    ]


def demo_config(data_dir: Path) -> Config:
    """The embedded default configuration, generating its demo clips under `data_dir/demo` if missing."""
    clips = data_dir / "demo"
    scenes = _scenes()
    with ThreadPoolExecutor(max_workers=len(scenes)) as pool:  # x264 and numpy release the GIL
        paths = list(pool.map(lambda s: _clip(clips, s[4]), scenes))
    cameras: list[dict[str, Any]] = []
    for (camera_id, name, institution, role, _), path in zip(scenes, paths, strict=True):
        camera: dict[str, Any] = {
            "id": camera_id,
            "name": name,
            "institution": institution,
            "role": role,
            "source": {"url": str(path.resolve())},
        }
        if role == "evacuation_route":
            camera["detectors"] = [
                {
                    "type": "blocked_route",
                    "zones": [{"name": "通道地面", "points": [list(p) for p in FLOOR_ZONE]}],
                    "params": {"dwell_s": ROUTE_DWELL_S},
                }
            ]
        cameras.append(camera)
    return parse_config(
        {
            "storage": {"data_dir": str(data_dir)},
            "organisation": {
                "id": "qd-mzj",
                "name": "启东市民政局",
                "towns": [
                    {"id": "hl", "name": "汇龙镇", "institutions": [{"id": "hl-jly", "name": "汇龙镇敬老院"}]},
                    {"id": "ny", "name": "南阳镇", "institutions": [{"id": "ny-jly", "name": "南阳镇中心敬老院"}]},
                ],
            },
            "cameras": cameras,
        },
        "<embedded defaults>",
    )


def _clip(folder: Path, scene: Scene) -> Path:
    path = folder / f"{scene.name}.mp4"
    if not path.exists():
        log.info("demo: generating %s", path)
    return encode(scene, path, fps=10, gop_seconds=2.0)
