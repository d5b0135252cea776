"""A real headless Chromium for the console's and the phone's browser tests: Debian's ``chromium`` and
``chromium-driver`` driven by selenium. Outside CI a missing browser skips those tests (with the install
command); with ``CI=true`` it fails the run."""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
from collections.abc import Callable
from typing import TypeVar

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

INSTALL_HINT = "Chromium is not installed: apt-get install chromium chromium-driver"
#: Seconds a browser test waits for something to appear before failing.
WAIT = 15.0

T = TypeVar("T")


def find_chromium() -> tuple[str, str] | None:
    """``(browser, driver)`` paths, or ``None`` when either is missing."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def new_browser() -> webdriver.Chrome:
    """A headless Chromium on this machine's own packages; skips (fails in CI) when they are missing."""
    found = find_chromium()
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(INSTALL_HINT)
        pytest.skip(INSTALL_HINT)
    browser, driver = found
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    # Headless, as root, and without the background traffic this closed network refuses (update checks,
    # sync, QUIC): each would fail loudly at every start.
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        f"--user-data-dir={tempfile.mkdtemp(prefix='callhooks-chromium-')}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(executable_path=driver))


def authorize(browser: webdriver.Chrome, user: str, password: str) -> None:
    """Send HTTP Basic credentials with every request this browser makes (the page, its fetches and its
    event streams), as a person would after answering the browser's login prompt."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Basic {token}"}})


def forget_authorization(browser: webdriver.Chrome) -> None:
    browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})


def wait_for(browser: webdriver.Chrome, condition: Callable[[webdriver.Chrome], T], timeout: float = WAIT) -> T:
    """Poll ``condition(browser)`` until it returns something truthy (selenium's WebDriverWait, with a deadline)."""
    return WebDriverWait(browser, timeout, poll_frequency=0.05).until(condition)
