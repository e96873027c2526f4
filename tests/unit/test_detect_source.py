"""A camera's detect source (core/config/models.py, service/supervisor.py): its credentials are kept like the main
source's, a bad one is refused with its path beside every other problem, and its connection has its own name."""

from __future__ import annotations

from typing import Any

import pytest

from core.config import ConfigError, IngestConfig
from service.configuration import parse_config
from service.supervisor import detect_source_settings, source_settings

ORG = {"towns": [{"id": "t", "name": "镇", "institutions": [{"id": "i", "name": "院"}]}]}


def _config(**camera: Any) -> Any:
    entry = {"id": "c", "name": "门", "institution": "i", "role": "gate", "source": {"url": "rtsp://10.0.0.5/main"}}
    return parse_config({"organisation": ORG, "cameras": [{**entry, **camera}]})


def test_credentials_in_the_detect_source_are_lifted_and_kept_secret() -> None:
    camera = _config(detect_source={"url": "rtsp://admin:s3cret@10.0.0.5/sub?token=t0k"}).cameras[0]
    detect = camera.detect_source
    assert detect is not None and detect.url == "rtsp://10.0.0.5/sub?token=***"
    assert detect.username == "admin" and "s3cret" not in repr(detect) and "t0k" not in camera.model_dump_json()
    settings = detect_source_settings(camera, IngestConfig())
    assert settings is not None and settings.camera_id == "c:detect"
    assert settings.open_target() == "rtsp://admin:s3cret@10.0.0.5/sub?token=t0k"
    assert {"s3cret", "t0k"} <= set(settings.secrets) and "s3cret" not in repr(settings)
    assert source_settings(camera, IngestConfig()).camera_id == "c"


def test_without_a_detect_source_detection_reads_the_main_stream() -> None:
    assert detect_source_settings(_config().cameras[0], IngestConfig()) is None


def test_bad_detect_sources_are_refused_with_every_other_problem() -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(
            {
                "organisation": ORG,
                "cameras": [
                    {
                        "id": "a",
                        "name": "门",
                        "institution": "i",
                        "role": "gate",
                        "source": {"url": "rtsp://10.0.0.5/main"},
                        "detect_source": {"url": "http://10.0.0.5/sub"},
                    },
                    {
                        "id": "b",
                        "name": "门",
                        "institution": "i",
                        "role": "gate",
                        "source": {"url": "rtsp://10.0.0.6/main"},
                        "detect_source": {"url": "rtsp://10.0.0.6/main"},
                    },
                    {
                        "id": "c",
                        "name": "门",
                        "institution": "i",
                        "role": "lobby",
                        "source": {"url": "rtsp://10.0.0.7/main"},
                        "detect_source": {"url": "rtsp://10.0.0.7/sub", "transport": "sctp"},
                    },
                ],
            }
        )
    problems = {p.path: p.message for p in refused.value.problems}
    assert "unsupported scheme" in problems["cameras[0].detect_source.url"]
    assert "same stream as `source`" in problems["cameras[1].detect_source"]
    assert {"cameras[2].role", "cameras[2].detect_source.transport"} <= set(problems)
