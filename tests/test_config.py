"""Configuration: a good file loads into typed objects; a bad one lists every problem with its path."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.config import ConfigError
from service.configuration import load_config, parse_config

GOOD = """
organisation:
  id: qd
  name: 启东市民政局
  towns:
    - id: hl
      name: 汇龙镇
      institutions:
        - {id: hl-jly, name: 汇龙镇敬老院}
    - id: bhy
      name: 滨海园区
      kind: park
      institutions:
        - {id: bhy-fly, name: 滨海福利院, kind: child_welfare}
cameras:
  - id: hl-gate
    name: 大门
    institution: hl-jly
    role: gate
    source: {url: "rtsp://admin:p%40ss@127.0.0.1:8554/ch1"}
  - id: hl-kitchen
    name: 厨房
    institution: hl-jly
    role: kitchen
    source: {url: "rtsp://127.0.0.1:8554/ch2", username: user, password: "${CAM_PASSWORD}", transport: udp}
    detectors:
      - type: blocked_route
        zones:
          - name: 主通道
            points: [[0.1, 0.5], [0.9, 0.5], [0.9, 1.0], [0.1, 1.0]]
        params: {threshold: 0.25, dwell_s: 60}
  - id: bhy-exit
    name: 疏散通道
    institution: bhy-fly
    role: evacuation_route
    retention_hours: 72
    source: {url: /var/lib/demo.mp4}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "vms.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_good_file_loads_with_chinese_names_and_lifted_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAM_PASSWORD", "s3cret")
    config = load_config(write(tmp_path, GOOD))
    gate, kitchen, exit_ = config.cameras
    assert gate.name == "大门" and config.organisation.towns[0].institutions[0].name == "汇龙镇敬老院"
    # Credentials typed into the URL are moved out of it, so the URL can be shown and logged.
    assert gate.source.url == "rtsp://127.0.0.1:8554/ch1"
    assert gate.source.username == "admin" and gate.source.password.get_secret_value() == "p@ss"
    assert "p@ss" not in repr(gate) and "p@ss" not in gate.model_dump_json()
    assert kitchen.source.password.get_secret_value() == "s3cret"
    assert kitchen.detectors[0].zones[0].points[0] == (0.1, 0.5)
    # Retention: kitchens keep 7 days by default, a camera may override, others keep 24 h.
    assert config.retention_hours(kitchen) == 168
    assert config.retention_hours(exit_) == 72
    assert config.retention_hours(gate) == 24
    assert exit_.source.is_file


def test_bad_file_lists_every_problem_with_its_path(tmp_path: Path) -> None:
    bad = GOOD.replace("role: kitchen", "role: canteen").replace("id: bhy-exit", "id: hl-gate")
    bad = bad.replace("[0.9, 0.5], [0.9, 1.0]", "[0.9, 1.0], [0.9, 0.5]")  # edges cross
    bad = bad.replace("institution: bhy-fly", "institution: nowhere")
    bad += "ingest: {watchdog_s: 0.5, backoff_s: []}\n"
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, bad))
    text = str(caught.value)
    for expected in [
        "cameras[1].role: Input should be 'gate', 'duty_room', 'evacuation_route', 'kitchen' or 'other'",
        "cameras[1].detectors[0].zones[0].points: polygon edges",
        "cameras[1].source.password: environment variable CAM_PASSWORD is not set",
        "cameras[0].id: duplicate id 'hl-gate'",
        "cameras[2].id: duplicate id 'hl-gate'",
        "cameras[2].institution: unknown institution 'nowhere'",
        "ingest.watchdog_s: Input should be greater than or equal to 1",
        "ingest.backoff_s: List should have at least 1 item",
    ]:
        assert expected in text, f"{expected!r} missing from:\n{text}"


@pytest.mark.parametrize(
    ("snippet", "path", "message"),
    [
        ({"cameras": [{"id": "a"}]}, "cameras[0].name", "Field required"),
        (
            {
                "cameras": [
                    {"id": "a b", "name": "x", "institution": "i", "role": "gate", "source": {"url": "rtsp://h/x"}}
                ]
            },
            "cameras[0].id",
            "String should match pattern",
        ),
        (
            {
                "cameras": [
                    {"id": "a", "name": "x", "institution": "i", "role": "gate", "source": {"url": "http://h/x"}}
                ]
            },
            "cameras[0].source.url",
            "unsupported scheme 'http'",
        ),
        (
            {"cameras": [{"id": "a", "name": "x", "institution": "i", "role": "gate", "source": {"url": "rtsp:///x"}}]},
            "cameras[0].source.url",
            "RTSP URL has no host",
        ),
        (
            {
                "cameras": [
                    {
                        "id": "a",
                        "name": "x",
                        "institution": "i",
                        "role": "gate",
                        "source": {"url": "rtsp://h/x"},
                        "detectors": [
                            {"type": "blocked_route", "zones": [{"name": "z", "points": [[0, 0], [1.5, 0], [1, 1]]}]}
                        ],
                    }
                ]
            },
            "cameras[0].detectors[0].zones[0].points[1][0]",
            "less than or equal to 1",
        ),
        (
            {
                "cameras": [
                    {
                        "id": "a",
                        "name": "x",
                        "institution": "i",
                        "role": "gate",
                        "source": {"url": "rtsp://h/x"},
                        "detectors": [{"type": "blocked_route", "zones": [{"name": "z", "points": [[0, 0], [1, 1]]}]}],
                    }
                ]
            },
            "cameras[0].detectors[0].zones[0].points",
            "at least 3 items",
        ),
        (
            {
                "cameras": [
                    {
                        "id": "a",
                        "name": "x",
                        "institution": "i",
                        "role": "gate",
                        "source": {"url": "rtsp://h/x"},
                        "detectors": [{"type": "smoke"}],
                    }
                ]
            },
            "cameras[0].detectors[0].type",
            "Input should be",
        ),
        ({"ingest": {"stall_after_s": 20, "watchdog_s": 10}}, "ingest", "stall_after_s must not exceed watchdog_s"),
        ({"ingest": {"stall_after_s": 0.4}}, "ingest", "read_pause_s must not exceed half of stall_after_s"),
        ({"ingest": {"read_pause_s": 2}}, "ingest.read_pause_s", "less than or equal to 1"),
        ({"servr": {}}, "servr", "Extra inputs are not permitted"),
    ],
)
def test_each_mistake_names_its_field(snippet: dict, path: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(snippet)
    assert any(p.path == path and message in p.message for p in caught.value.problems), caught.value


def test_yaml_syntax_error_gives_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"line 3, column 4: YAML syntax error"):
        load_config(write(tmp_path, "cameras:\n  - id: a\n   name: b\n"))


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read file"):
        load_config(tmp_path / "nope.yaml")


def test_check_config_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = write(tmp_path, GOOD.replace('"${CAM_PASSWORD}"', "pw"))
    ok = subprocess.run([sys.executable, "-m", "vms", "check-config", str(good)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "2 town(s), 2 institution(s), 3 camera(s)" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("role: gate", "role: door"), encoding="utf-8")
    failed = subprocess.run([sys.executable, "-m", "vms", "check-config", str(bad)], capture_output=True, text=True)
    assert failed.returncode == 2
    assert "cameras[0].role:" in failed.stderr
    assert "p@ss" not in failed.stderr + failed.stdout


def test_documented_example_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HL_JLY_CAMERA_PASSWORD", "NANTONG_WEBHOOK_SECRET", "NANTONG_STREAM_KEY", "NANTONG_GB_PASSWORD"):
        monkeypatch.setenv(name, "whsec_c2VjcmV0")
    for name in ("WECOM_ROBOT_KEY", "DINGTALK_TOKEN", "DINGTALK_SECRET", "SMS_GATEWAY_KEY", "OPS_WEBHOOK_SECRET"):
        monkeypatch.setenv(name, "notifier-secret")
    config = load_config(Path(__file__).parent.parent / "docs" / "vms.example.yaml")
    assert [c.id for c in config.cameras] == ["hl-jly-gate", "hl-jly-exit-1", "hl-jly-duty", "bh-fly-kitchen"]
    assert [[d.type for d in c.detectors] for c in config.cameras[2:]] == [
        ["duty_absence", "fall"],
        ["tamper", "after_hours_presence", "rodents"],
    ]
    assert config.cameras[2].blur_faces
    assert [(p.id, len(p.push)) for p in config.uplink.platforms] == [("nantong", 1)]
    gb = config.uplink.platforms[0].gb28181
    assert gb is not None and gb.realm == "3206000000" and config.cameras[0].gb_id == "32068100001320000001"
    assert config.retention_hours(config.cameras[3]) == 336
    assert [(n.type, n.id) for n in config.notifications.notifiers] == [
        ("wecom", "bureau-wecom"),
        ("dingtalk", "hl-dingtalk"),
        ("sms", "duty-sms"),
        ("webhook", "county-hook"),
    ]


@pytest.mark.parametrize("password", ["pa/ss", "p#ss?x", "a@b:c", "简单密码"])
def test_credentials_with_url_special_characters_are_lifted(password: str) -> None:
    config = parse_config(
        {
            "organisation": {"towns": [{"id": "t", "name": "镇", "institutions": [{"id": "i", "name": "院"}]}]},
            "cameras": [
                {
                    "id": "c",
                    "name": "门",
                    "institution": "i",
                    "role": "gate",
                    "source": {"url": f"rtsp://admin:{password}@10.0.0.5:554/Streaming/101"},
                }
            ],
        }
    )
    source = config.cameras[0].source
    assert source.url == "rtsp://10.0.0.5:554/Streaming/101"
    assert source.username == "admin" and source.password.get_secret_value() == password


def test_redaction_masks_userinfo_with_slashes() -> None:
    from core.redaction import redact

    assert redact("open 'rtsp://admin:pa/ss@10.0.0.5/s' failed") == "open 'rtsp://***@10.0.0.5/s' failed"
    assert redact("error for secret-x", ["secret-x"]) == "error for ***"


def test_non_utf8_and_recursive_files_are_clear_errors(tmp_path: Path) -> None:
    gbk = tmp_path / "gbk.yaml"
    gbk.write_bytes("cameras:\n  - name: 大门\n".encode("gbk"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(gbk)
    recursive = tmp_path / "alias.yaml"
    recursive.write_text("cameras: &a [*a]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="too deeply nested"):
        load_config(recursive)


def test_unusable_storage_path_is_named() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"storage": {"data_dir": "data\x00x"}})
    assert any(p.path == "storage.data_dir" and "NUL" in p.message for p in caught.value.problems)


def _gb_config(**gb: object) -> dict:
    camera = {"name": "x", "institution": "hl-jly", "role": "gate", "source": {"url": "rtsp://h/x"}}
    return {
        "organisation": {
            "gb_id": "32068100002150000001",
            "towns": [{"id": "hl", "name": "汇龙镇", "institutions": [{"id": "hl-jly", "name": "敬老院"}]}],
        },
        "cameras": [
            {**camera, "id": "a", "gb_id": "32068100001320000001"},
            {**camera, "id": "b", "gb_id": "32068100001320000002"},
        ],
        "uplink": {
            "platforms": [
                {
                    "id": "nantong",
                    "name": "南通",
                    "gb28181": {
                        "server_id": "32060000002000000001",
                        "host": "127.0.0.1",
                        "local_id": "32068100002000000001",
                        "password": "x",
                        **gb,
                    },
                }
            ]
        },
    }


def test_a_gb28181_cascade_loads_with_its_defaults() -> None:
    config = parse_config(_gb_config())
    gb = config.uplink.platforms[0].gb28181
    assert gb is not None and gb.realm == "3206000000" and gb.transport == "udp" and gb.charset == "GB2312"
    assert gb.announced_media_host == "127.0.0.1" and config.cameras[0].gb_id == "32068100001320000001"


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (lambda c: c["cameras"][0].update(gb_id="3206810000132000001"), "cameras[0].gb_id", "20 digits"),
        (lambda c: c["cameras"][0].update(gb_id="32068100002160000001"), "cameras[0].gb_id", "131 or 132, not 216"),
        (lambda c: c["organisation"].update(gb_id="32068100001320000009"), "organisation.gb_id", "215 or 216"),
        (lambda c: c["cameras"][1].update(gb_id="32068100001320000001"), "cameras[1].gb_id", "used twice"),
        (
            lambda c: c["uplink"]["platforms"][0]["gb28181"].update(local_id="32068100001320000001"),
            "uplink.platforms[0].gb28181.local_id",
            "200, not 132",
        ),
        (
            lambda c: c["uplink"]["platforms"][0]["gb28181"].update(local_id="32068100002150000001"),
            "uplink.platforms[0].gb28181.local_id",
            "200, not 215",
        ),
        (
            lambda c: c["uplink"]["platforms"].append({**c["uplink"]["platforms"][0], "id": "second"}),
            "uplink.platforms[1].gb28181.local_port",
            "another cascade's SIP port",
        ),
        (
            lambda c: c["uplink"]["platforms"][0]["gb28181"].update(transport="sctp"),
            "uplink.platforms[0].gb28181.transport",
            "Input should be",
        ),
        (
            lambda c: c["uplink"]["platforms"][0]["gb28181"].update(charset="BIG5"),
            "uplink.platforms[0].gb28181.charset",
            "Input should be",
        ),
    ],
)
def test_gb28181_mistakes_name_their_field(change, path: str, message: str) -> None:  # type: ignore[no-untyped-def]
    data = _gb_config()
    change(data)
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert any(p.path == path and message in p.message for p in caught.value.problems), caught.value
