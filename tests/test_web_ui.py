"""The web UI in a real headless Chromium: log-in, organisation tree with health, live view decoded in the
page (WebRTC, then the fMP4 fallback), a spot check with evidence, the language switch. Screenshots are
kept in tests/artifacts/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.conftest import ORGANISATION
from tests.rig.browser import artifacts_dir, chromium
from tests.rig.rtsp import RtspServer, free_port
from tests.running_service import ADMIN_PASSWORD, RunningService

pytestmark = pytest.mark.rtsp

# Frames decoded so far (of a <video>; -1 for an <img>), and a fingerprint of the picture drawn onto a canvas.
PICTURE_PROBE = """
const video = arguments[0];
const quality = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : null;
const canvas = document.createElement('canvas');
canvas.width = 160; canvas.height = 90;
const context = canvas.getContext('2d');
context.drawImage(video, 0, 0, 160, 90);
const pixels = context.getImageData(0, 0, 160, 90).data;
let sum = 0, nonBlack = 0;
for (let i = 0; i < pixels.length; i += 4) {
  sum = (sum * 31 + pixels[i] + pixels[i + 1] * 7 + pixels[i + 2] * 13) % 1000000007;
  if (pixels[i] + pixels[i + 1] + pixels[i + 2] > 30) nonBlack++;
}
return [quality ? quality.totalVideoFrames : -1, sum, nonBlack, video.videoWidth || video.naturalWidth];
"""


@pytest.fixture(scope="module")
def ui_service(tmp_path_factory: pytest.TempPathFactory, clip_h264: Path, clip_hevc: Path) -> Iterator[RunningService]:
    mounts = [
        {"path": "/gate", "clip": str(clip_h264)},
        {"path": "/duty", "clip": str(clip_h264)},
        {"path": "/canteen", "clip": str(clip_hevc)},
    ]
    with RtspServer(mounts) as rtsp:
        config = {
            "organisation": ORGANISATION,
            "live": {"ice_hosts": ["127.0.0.1"], "idle_timeout_s": 3, "connect_timeout_s": 5},
            "recording": {"segment_s": 4},
            "cameras": [
                {
                    "id": "gate",
                    "name": "汇龙镇敬老院大门",
                    "institution": "hl-jly",
                    "role": "gate",
                    "source": {"url": rtsp.url("/gate")},
                },
                {
                    "id": "duty",
                    "name": "汇龙镇敬老院值班室",
                    "institution": "hl-jly",
                    "role": "duty_room",
                    "source": {"url": rtsp.url("/duty")},
                    # Analysed on a sub-stream that never answers: recording and live view go on, the tree says so.
                    "detect_source": {"url": f"rtsp://127.0.0.1:{free_port()}/duty-sub"},
                },
                {
                    "id": "kitchen",
                    "name": "南阳镇中心敬老院厨房",
                    "institution": "ny-jly",
                    "role": "kitchen",
                    "source": {"url": f"rtsp://127.0.0.1:{free_port()}/kitchen"},
                },
                {
                    "id": "canteen",
                    "name": "南阳镇中心敬老院食堂",
                    "institution": "ny-jly",
                    "role": "kitchen",
                    "source": {"url": rtsp.url("/canteen")},
                },  # H.265
            ],
        }
        service = RunningService(tmp_path_factory.mktemp("ui"), config)
        service.start()
        try:
            admin = service.client()
            for camera_id in ("gate", "duty", "canteen"):
                service.wait_for(admin, camera_id, lambda c: (c["health"] or {}).get("state") == "online")
            yield service
        finally:
            service.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    driver = chromium()
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: WebDriver, condition, timeout: float = 15.0):
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: condition(d))


def _log_in_unless_logged_in(driver: WebDriver, shown_when_in: str) -> None:
    """Tests share one browser; one run alone meets the log-in form first."""
    _wait(
        driver,
        lambda d: d.find_element(By.ID, "login-form").is_displayed() or d.find_elements(By.CSS_SELECTOR, shown_when_in),
    )
    if driver.find_element(By.ID, "login-form").is_displayed():
        driver.find_element(By.NAME, "username").send_keys("admin")
        driver.find_element(By.NAME, "password").send_keys(ADMIN_PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()


def _assert_video_plays(driver: WebDriver, tile) -> None:
    video = tile.find_element(By.TAG_NAME, "video")
    _wait(driver, lambda d: d.execute_script(PICTURE_PROBE, video)[0] > 0)
    frames_before, picture_before, lit, width = driver.execute_script(PICTURE_PROBE, video)
    time.sleep(1.0)
    frames_after, picture_after, _, _ = driver.execute_script(PICTURE_PROBE, video)
    assert width == 640
    assert lit > 1000, "the canvas grab of the video is black"
    assert frames_after >= frames_before + 10, (frames_before, frames_after)
    assert picture_after != picture_before, "the picture did not change in a second"


def test_live_view_spot_check_and_language_in_a_real_browser(ui_service: RunningService, browser: WebDriver) -> None:
    browser.get(ui_service.base_url + "/")
    login = _wait(
        browser,
        lambda d: d.find_element(By.ID, "login-form") if d.find_element(By.ID, "login-form").is_displayed() else None,
    )
    assert "登录" in login.text and browser.execute_script("return document.documentElement.lang") == "zh-CN"
    login.find_element(By.NAME, "username").send_keys("admin")
    login.find_element(By.NAME, "password").send_keys("wrong password")
    login.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(browser, lambda d: "用户名或密码错误" in d.find_element(By.ID, "login-error").text)
    login.find_element(By.NAME, "password").clear()
    login.find_element(By.NAME, "password").send_keys(ADMIN_PASSWORD)
    login.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    # The tree: towns, institutions, cameras with their health.
    gate = _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#org-tree [data-camera=gate]"))
    tree = browser.find_element(By.ID, "org-tree").text
    assert "汇龙镇" in tree and "南阳镇中心敬老院" in tree
    assert gate.get_attribute("data-state") == "online"
    _wait(
        browser,
        lambda d: (
            d.find_element(By.CSS_SELECTOR, "[data-camera=kitchen]").get_attribute("data-state")
            in ("offline", "connecting")
        ),
    )
    duty = _wait(
        browser,
        lambda d: (
            e if (e := d.find_element(By.CSS_SELECTOR, "[data-camera=duty]")).get_attribute("data-substream") else None
        ),
    )
    assert duty.get_attribute("data-state") == "online" and "子码流" in duty.text, duty.text
    assert gate.get_attribute("data-substream") is None
    assert "实时监控" in browser.find_element(By.CSS_SELECTOR, ".topbar nav").text

    # 4-tile grid; the first tile plays the gate over WebRTC.
    browser.find_element(By.CSS_SELECTOR, "[data-grid='4']").click()
    assert len(browser.find_elements(By.CSS_SELECTOR, "#grid .tile")) == 4
    gate.click()
    tile = browser.find_element(By.CSS_SELECTOR, "#grid .tile[data-index='0']")
    _wait(browser, lambda d: tile.get_attribute("data-state") == "playing", timeout=20)
    assert tile.get_attribute("data-transport") == "webrtc"
    _assert_video_plays(browser, tile)
    browser.find_element(By.CSS_SELECTOR, "#org-tree [data-camera=duty]").click()
    second = browser.find_element(By.CSS_SELECTOR, "#grid .tile[data-index='1']")
    _wait(browser, lambda d: second.get_attribute("data-state") == "playing", timeout=20)
    time.sleep(0.5)
    browser.save_screenshot(str(artifacts_dir() / "web-ui-live-grid.png"))
    assert (artifacts_dir() / "web-ui-live-grid.png").stat().st_size > 20_000
    assert ui_service.client().get("/api/live/sessions").json()["peer_connections"] == 2
    browser.find_element(By.CSS_SELECTOR, "[data-grid='1']").click()  # tiles beyond the first are closed
    _wait(browser, lambda d: ui_service.client().get("/api/live/sessions").json()["peer_connections"] == 1)

    # Spot-check mode: walk the institution's cameras, keep evidence, record the result.
    browser.find_element(By.CSS_SELECTOR, "a[data-route=spot-check]").click()
    Select(_wait(browser, lambda d: d.find_element(By.ID, "spot-institution"))).select_by_value("hl-jly")
    browser.find_element(By.ID, "spot-start").click()
    _wait(
        browser,
        lambda d: d.find_element(By.CSS_SELECTOR, ".spot-walk .tile").get_attribute("data-state") == "playing",
        timeout=20,
    )
    browser.find_element(By.ID, "spot-capture").click()
    _wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".evidence img")) == 1)
    assert "第 2 / 2 路" in browser.find_element(By.ID, "spot-position").text
    browser.find_element(By.ID, "spot-capture").click()
    _wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".evidence img")) == 2)
    _wait(
        browser,
        lambda d: d.execute_script(
            "return [...document.querySelectorAll('.evidence img')].every(i => i.complete && i.naturalWidth === 640)"
        ),
    )
    Select(browser.find_element(By.ID, "spot-result")).select_by_value("issues")
    browser.find_element(By.ID, "spot-remark").send_keys("值班室无人值守")
    assert "null" not in browser.find_element(By.ID, "page-spot-check").text
    _wait(
        browser, lambda d: d.find_element(By.CSS_SELECTOR, ".spot-walk .tile").get_attribute("data-state") == "playing"
    )
    browser.save_screenshot(str(artifacts_dir() / "web-ui-spot-check.png"))
    browser.find_element(By.ID, "spot-finish").click()
    row = _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "table.history tbody tr"))
    assert "发现问题" in row.text and "值班室无人值守" in row.text and "admin" in row.text
    checks = ui_service.client().get("/api/spot-checks").json()
    assert [e["camera_id"] for e in checks[0]["evidence"]] == ["gate", "duty"] and checks[0]["result"] == "issues"

    # English on request, kept across pages.
    browser.find_element(By.ID, "lang-toggle").click()
    _wait(browser, lambda d: "Spot checks" in d.find_element(By.CSS_SELECTOR, ".topbar nav").text)
    assert "Issues found" in browser.find_element(By.CSS_SELECTOR, "table.history").text
    browser.find_element(By.CSS_SELECTOR, "a[data-route=playback]").click()
    _wait(browser, lambda d: "Show" in d.find_element(By.ID, "playback-form").text)
    browser.find_element(By.ID, "lang-toggle").click()

    # Leaving the page closes every live view on the server.
    browser.get("about:blank")
    _wait(browser, lambda d: ui_service.client().get("/api/live/sessions").json()["peer_connections"] == 0, timeout=15)


def test_fallback_plays_when_the_browser_has_no_webrtc(ui_service: RunningService, browser: WebDriver) -> None:
    # A browser without WebRTC (as some locked-down desktops are): the player falls back on its own.
    script = browser.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument", {"source": "delete window.RTCPeerConnection;"}
    )
    browser.get(ui_service.base_url + "/ui/#/live")
    browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})
    assert browser.execute_script("return typeof window.RTCPeerConnection") == "undefined"
    _log_in_unless_logged_in(browser, "#org-tree li")
    gate = _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#org-tree [data-camera=gate]"))
    gate.click()
    tile = _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#grid .tile[data-camera=gate]"))
    _wait(browser, lambda d: tile.get_attribute("data-state") == "playing", timeout=20)
    assert tile.get_attribute("data-transport") == "fmp4"
    _assert_video_plays(browser, tile)
    browser.save_screenshot(str(artifacts_dir() / "web-ui-fallback.png"))
    viewers = ui_service.client().get("/api/live/sessions").json()["viewers"]
    assert [v["transport"] for v in viewers] == ["fmp4"]
    browser.get("about:blank")
    _wait(browser, lambda d: not ui_service.client().get("/api/live/sessions").json()["viewers"], timeout=10)


def test_an_hevc_camera_plays_as_motion_jpeg(ui_service: RunningService, browser: WebDriver) -> None:
    # WebRTC and the fMP4 fallback cannot carry H.265 to a browser; the player goes on to Motion JPEG itself.
    browser.get(ui_service.base_url + "/ui/#/live")
    _log_in_unless_logged_in(browser, "#org-tree li")
    _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#org-tree [data-camera=canteen]")).click()
    tile = _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#grid .tile[data-camera=canteen]"))
    _wait(browser, lambda d: tile.get_attribute("data-state") == "playing", timeout=20)
    assert tile.get_attribute("data-transport") == "mjpeg"
    assert not tile.find_element(By.TAG_NAME, "video").is_displayed()
    image = tile.find_element(By.CSS_SELECTOR, "img.live-mjpeg")
    _, picture_before, lit, width = browser.execute_script(PICTURE_PROBE, image)
    time.sleep(1.0)
    _, picture_after, _, _ = browser.execute_script(PICTURE_PROBE, image)
    assert width == 640 and lit > 1000, (width, lit)
    assert picture_after != picture_before, "the picture did not change in a second"
    assert "MJPEG" in tile.text or "Motion JPEG" in tile.text  # the status names the transport
    browser.save_screenshot(str(artifacts_dir() / "web-ui-mjpeg.png"))
    viewers = ui_service.client().get("/api/live/sessions").json()["viewers"]
    assert [(v["camera_id"], v["transport"]) for v in viewers] == [("canteen", "mjpeg")]
    browser.get("about:blank")
    _wait(browser, lambda d: not ui_service.client().get("/api/live/sessions").json()["viewers"], timeout=10)


def test_ui_assets_are_served_by_the_app_without_a_cdn(ui_service: RunningService) -> None:
    assert httpx.get(ui_service.base_url + "/").headers["location"] == "/ui/"
    index = httpx.get(ui_service.base_url + "/ui/")
    assert index.status_code == 200 and "script-src 'self'" in index.headers["content-security-policy"]
    script = httpx.get(ui_service.base_url + "/ui/player.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    for asset in ("index.html", "app.js", "player.js", "grid.js", "tree.js", "spotcheck.js", "i18n.js", "style.css"):
        text = (Path(__file__).resolve().parent.parent / "api" / "web" / asset).read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text, asset  # nothing fetched from elsewhere
    assert httpx.get(ui_service.base_url + "/ui/..%2f..%2fpyproject.toml").status_code == 404
    assert httpx.get(ui_service.base_url + "/ui/nothing.js").status_code == 404


def _show_recordings(browser: WebDriver, service: RunningService, camera_id: str, minutes_ago: int) -> None:
    """The playback page's query: the camera's 15 minutes from `minutes_ago`, in the browser's local time."""
    browser.get(service.base_url + "/#/playback")
    _log_in_unless_logged_in(browser, "#playback-form")
    form = _wait(browser, lambda d: d.find_element(By.ID, "playback-form"))
    Select(form.find_element(By.ID, "playback-camera")).select_by_value(camera_id)
    browser.execute_script(
        "const d = new Date(Date.now() - arguments[1] * 60000); const p = n => String(n).padStart(2, '0');"
        "arguments[0].value = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`"
        " + `T${p(d.getHours())}:${p(d.getMinutes())}`;",
        form.find_element(By.ID, "playback-start"),
        minutes_ago,
    )
    Select(form.find_element(By.ID, "playback-period")).select_by_value("900")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def test_playback_with_timeline_and_export_in_a_real_browser(ui_service: RunningService, browser: WebDriver) -> None:
    from tests.rig.probe import check_video
    from tests.test_recordings import wait_segments

    with ui_service.client() as admin:
        wait_segments(admin, "gate", time.time() - 600, closed=2)
    _show_recordings(browser, ui_service, "gate", minutes_ago=10)
    assert browser.find_element(By.CSS_SELECTOR, "[data-route=playback]").text in ("录像回放", "Playback")

    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#playback-timeline .recorded"))
    video = browser.find_element(By.ID, "playback-video")
    try:
        _wait(browser, lambda d: d.execute_script(PICTURE_PROBE, video)[0] > 0, timeout=20)
    except Exception as error:  # say what the page said
        raise AssertionError(
            (browser.find_element(By.ID, "playback-status").text, browser.get_log("browser"))
        ) from error
    frames_before, picture_before, lit, width = browser.execute_script(PICTURE_PROBE, video)
    time.sleep(1.0)
    frames_after, picture_after, _, _ = browser.execute_script(PICTURE_PROBE, video)
    assert width == 640 and lit > 1000
    assert frames_after >= frames_before + 10 and picture_after != picture_before, (frames_before, frames_after)
    wall = float(browser.find_element(By.ID, "playback-clock").get_attribute("data-wall"))
    assert time.time() - 600 < wall < time.time(), wall  # the player's clock is the recording's wall clock

    browser.find_element(By.ID, "playback-export").click()
    link = _wait(browser, lambda d: d.find_element(By.ID, "playback-download"), timeout=30)
    browser.save_screenshot(str(artifacts_dir() / "web-ui-playback.png"))
    # The exported MP4 plays in the browser as it is, straight from its download URL.
    exported = browser.execute_script(
        "const v = document.createElement('video'); v.muted = true; v.src = arguments[0];"
        "document.body.append(v); v.play(); return v;",
        link.get_attribute("href"),
    )
    _wait(browser, lambda d: d.execute_script(PICTURE_PROBE, exported)[0] >= 10, timeout=20)
    browser.execute_script("arguments[0].remove()", exported)
    with ui_service.client() as admin:
        clip = admin.get(link.get_attribute("href").replace(ui_service.base_url, ""))
    assert clip.status_code == 200
    path = ui_service.workdir / "playback-export.mp4"
    path.write_bytes(clip.content)
    check = check_video(str(path))
    assert check.errors == "" and check.frames_decoded == check.packets > 25


def test_hevc_recordings_play_back_as_pictures(ui_service: RunningService, browser: WebDriver) -> None:
    # The canteen records H.265, which this Chromium cannot play: its recordings come as decoded pictures.
    from tests.test_recordings import wait_segments

    with ui_service.client() as admin:
        wait_segments(admin, "canteen", time.time() - 600, closed=2)
    _show_recordings(browser, ui_service, "canteen", minutes_ago=5)

    picture = _wait(browser, lambda d: d.find_element(By.ID, "playback-picture"))
    try:
        _wait(browser, lambda d: d.execute_script("return arguments[0].naturalWidth", picture) == 640, timeout=20)
    except Exception as error:  # say what the page said
        raise AssertionError(
            (browser.find_element(By.ID, "playback-status").text, browser.get_log("browser"))
        ) from error
    assert not browser.find_element(By.ID, "playback-video").is_displayed()
    clock = browser.find_element(By.ID, "playback-clock")
    wall_before = float(clock.get_attribute("data-wall"))
    _, picture_before, lit, _ = browser.execute_script(PICTURE_PROBE, picture)
    time.sleep(1.0)
    _, picture_after, _, _ = browser.execute_script(PICTURE_PROBE, picture)
    wall_after = float(clock.get_attribute("data-wall"))
    assert lit > 1000 and picture_after != picture_before, "the picture did not change in a second"
    assert time.time() - 600 < wall_before < wall_after < time.time(), (wall_before, wall_after)
    assert 0.5 <= wall_after - wall_before <= 2.5  # about real time (a late picture is caught up with)
    browser.save_screenshot(str(artifacts_dir() / "web-ui-playback-hevc.png"))
    browser.get("about:blank")
