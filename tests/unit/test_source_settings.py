"""Camera credentials: lifted out of URLs at configuration time (core/config/models.py) and put back only for
FFmpeg (streams/source.py)."""

from __future__ import annotations

from core.config import IngestConfig
from core.config.models import SourceConfig
from service.configuration import parse_config
from service.supervisor import source_settings


def _camera(url: str):  # type: ignore[no-untyped-def]
    config = parse_config(
        {
            "organisation": {"towns": [{"id": "t", "name": "镇", "institutions": [{"id": "i", "name": "院"}]}]},
            "cameras": [{"id": "c", "name": "门", "institution": "i", "role": "gate", "source": {"url": url}}],
        }
    )
    return config.cameras[0]


def test_user_info_and_query_secrets_are_lifted_and_given_back_to_ffmpeg_only() -> None:
    camera = _camera("rtsp://admin:p%40ss@10.0.0.5:554/live?user=u&password=s%3Dcret&channel=1")
    assert camera.source.url == "rtsp://10.0.0.5:554/live?user=u&password=***&channel=1"
    settings = source_settings(camera, IngestConfig())
    assert settings.open_target() == "rtsp://admin:p%40ss@10.0.0.5:554/live?user=u&password=s%3Dcret&channel=1"
    assert {"p@ss", "s%3Dcret", "s=cret"} <= set(settings.secrets)
    assert "cret" not in repr(settings) and "p@ss" not in repr(settings)


def test_a_masked_or_empty_query_value_and_other_parameters_stay() -> None:
    source = SourceConfig(url="rtsp://h/x?password=&token=***&stream=main")
    assert source.url == "rtsp://h/x?password=&token=***&stream=main" and not source.query_secrets
    assert SourceConfig(url="rtsp://h/path@v2/stream").url == "rtsp://h/path@v2/stream"  # an '@' in the path


def test_the_ingest_settings_reach_the_source() -> None:
    ingest = IngestConfig(watchdog_s=20, stall_after_s=2, backoff_s=[3, 4], read_pause_s=0.5)
    settings = source_settings(_camera("rtsp://h/x"), ingest)
    assert (settings.watchdog_s, settings.backoff_s, settings.read_pause_s) == (20, (3, 4), 0.5)
    assert source_settings(_camera("rtsp://h/x"), IngestConfig()).read_pause_s == 0.25
