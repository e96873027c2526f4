"""uplink/gb28181/catalog.py: the tree an upper platform is sent — units with an id over the cameras it sees that
have one, each hung under the nearest unit above with an id (our platform where none has)."""

from __future__ import annotations

from core.organisation import OrgTree
from service.configuration import parse_config
from uplink.gb28181.catalog import build_catalog

LOCAL = "32068100002000000001"


def _config(units: list[str]) -> dict:
    camera = {"role": "gate", "source": {"url": "rtsp://h/x"}}
    return {
        "organisation": {
            "id": "qd",
            "name": "启东市民政局",
            "gb_id": "32068100002150000001",
            "towns": [
                {
                    "id": "hl",
                    "name": "汇龙镇",
                    "institutions": [{"id": "hl-jly", "name": "汇龙镇敬老院", "gb_id": "32068100002160000002"}],
                },
                {"id": "ny", "name": "南阳镇", "institutions": [{"id": "ny-jly", "name": "南阳镇敬老院"}]},
            ],
        },
        "cameras": [
            {**camera, "id": "gate", "name": "大门", "institution": "hl-jly", "gb_id": "32068100001320000001"},
            {**camera, "id": "hall", "name": "大厅", "institution": "hl-jly"},
            {**camera, "id": "ny-gate", "name": "南阳大门", "institution": "ny-jly", "gb_id": "32068100001320000002"},
        ],
        "uplink": {"platforms": [{"id": "p", "name": "南通", "units": units}]},
    }


def test_units_without_an_id_are_skipped_and_what_lies_below_hangs_higher() -> None:
    config = parse_config(_config([]))
    catalog = build_catalog(config.uplink.platforms[0], LOCAL, config, OrgTree(config))
    tree = {e.gb_id: (e.name, e.parent_id, e.business_group_id) for e in catalog.entries}
    assert tree == {
        "32068100002150000001": ("启东市民政局", LOCAL, None),
        "32068100002160000002": ("汇龙镇敬老院", "32068100002150000001", "32068100002150000001"),  # 汇龙镇 has no id
        "32068100001320000001": ("大门", "32068100002160000002", "32068100002150000001"),
        "32068100001320000002": ("南阳大门", "32068100002150000001", "32068100002150000001"),
    }
    assert catalog.without_id == ["hall"] and len(catalog.cameras) == 2
    assert catalog.camera("32068100001320000001").camera_id == "gate"  # type: ignore[union-attr]
    assert catalog.camera("32068100002160000002") is None  # a unit is not a camera


def test_a_platform_sees_only_its_units() -> None:
    config = parse_config(_config(["ny"]))
    catalog = build_catalog(config.uplink.platforms[0], LOCAL, config, OrgTree(config))
    assert [e.name for e in catalog.entries] == ["启东市民政局", "南阳大门"]
