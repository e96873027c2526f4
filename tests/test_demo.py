"""What a newcomer sees after `./dev run` with no configuration: in a real browser, the live grid opens with
the demo cameras playing, and within three minutes of the first start a 消防通道占用 violation shows with its
snapshot and, once it has ended, its evidence clip."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.rig.browser import artifacts_dir, chromium
from tests.rig.probe import check_video
from tests.rig.rtsp import free_port

FIRST_START_BUDGET_S = 180.0
# [row text, snapshot's decoded width, clip link] of a 消防通道占用 row whose snapshot shows and clip is ready.
ROUTE_ROW = """
for (const row of document.querySelectorAll('#violations-table tbody tr')) {
  const image = row.querySelector('img.violation-snapshot');
  const clip = row.querySelector('a.violation-clip');
  if (row.textContent.includes('消防通道占用') && image && image.complete && image.naturalWidth && clip) {
    return [row.textContent, image.naturalWidth, clip.href];
  }
}
return null;
"""


def _wait(driver: WebDriver, condition, timeout: float):  # type: ignore[no-untyped-def]
    return WebDriverWait(driver, timeout, poll_frequency=0.5).until(lambda d: condition(d))


def test_the_demo_shows_a_blocked_route_with_snapshot_and_clip_within_three_minutes(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "VMS_ADMIN_PASSWORD"}
    started = time.monotonic()
    log = (tmp_path / "vms.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "vms", "run", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    driver = None
    try:
        password_file = tmp_path / "data" / "initial-admin-password.txt"
        while time.monotonic() - started < 90:
            try:
                if password_file.exists() and httpx.get(base + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, (tmp_path / "vms.log").read_text()
            time.sleep(0.5)
        password = password_file.read_text().strip()

        driver = chromium()
        driver.get(base + "/")
        assert driver.title == "民政服务机构视频监管平台"
        icon = driver.find_element(By.CSS_SELECTOR, "link[rel=icon]").get_attribute("href")
        favicon = httpx.get(icon)
        assert favicon.status_code == 200 and favicon.headers["content-type"].startswith("image/svg+xml")
        _wait(driver, lambda d: d.find_element(By.ID, "login-form").is_displayed(), 15)
        driver.find_element(By.NAME, "username").send_keys("admin")
        driver.find_element(By.NAME, "password").send_keys(password)
        driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()

        # The first open of the live grid plays the first cameras of the user's unit, no click needed.
        _wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#grid .tile[data-state=playing]")) >= 3, 60)
        playing = [t.get_attribute("data-camera") for t in driver.find_elements(By.CSS_SELECTOR, "#grid .tile")]
        assert {"hl-jly-gate", "hl-jly-duty", "hl-jly-exit-1"} <= set(playing), playing
        driver.save_screenshot(str(artifacts_dir() / "demo-live-grid.png"))

        driver.find_element(By.CSS_SELECTOR, "a[data-route=violations]").click()
        remaining = FIRST_START_BUDGET_S - (time.monotonic() - started)
        # The table is redrawn on every event: read the row in one step rather than hold on to its elements.
        found = _wait(driver, lambda d: d.execute_script(ROUTE_ROW), remaining)
        elapsed = time.monotonic() - started
        text, snapshot_width, clip_url = found
        assert snapshot_width == 640, found
        assert "一楼疏散通道" in text and "汇龙镇敬老院" in text, text
        driver.save_screenshot(str(artifacts_dir() / "demo-violation.png"))
    finally:
        if driver is not None:
            driver.quit()
    try:
        token = httpx.post(base + "/api/auth/login", json={"username": "admin", "password": password}).json()["token"]
        clip = httpx.get(clip_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert elapsed < FIRST_START_BUDGET_S, elapsed
    assert clip.status_code == 200 and clip.headers["content-type"] == "video/mp4"
    (tmp_path / "clip.mp4").write_bytes(clip.content)
    check = check_video(str(tmp_path / "clip.mp4"))
    assert check.errors == "" and check.frames_decoded == check.packets and check.duration_s > 20, check
