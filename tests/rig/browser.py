"""Debian's headless Chromium driven by Selenium through Debian's chromedriver (nothing is downloaded)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def artifacts_dir() -> Path:
    """Where tests leave screenshots for people to look at (git-ignored)."""
    path = Path(__file__).resolve().parent.parent / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def chromium(width: int = 1400, height: int = 900) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--allow-loopback-in-peer-connection",
        "--disable-background-networking",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--autoplay-policy=no-user-gesture-required",
        f"--window-size={width},{height}",
        f"--user-data-dir={tempfile.mkdtemp(prefix='vms-chromium-')}",
        "--lang=zh-CN",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))


def log_in(driver: webdriver.Chrome, url: str, username: str, password: str) -> None:
    """Opens `url` of the web UI and logs in on the form it shows."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 15, poll_frequency=0.2).until(lambda d: d.find_element(By.ID, "login-form").is_displayed())
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
