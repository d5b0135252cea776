"""Regenerate the console's screenshots in docs/ (``python -m tests.browser.console_screenshots [DIR]``).

A receiver with a console is served on 127.0.0.1, a few signed callbacks are sent to it (one call with a BXML
answer, one whose handler fails), and the page is photographed by headless Chromium at a laptop's and a
phone's width. Needs Debian's chromium and chromium-driver (see tests/helpers/browser.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
from selenium import webdriver
from selenium.webdriver.common.by import By

from callhooks.testing.server import serve
from tests.console.support import CONSOLE, make_hooks, send_call
from tests.helpers.browser import authorize, new_browser, wait_for

DOCS = Path(__file__).resolve().parents[2] / "docs"
SHOTS = {"console.png": (1280, 1900), "console-phone.png": (390, 1500)}


def take(browser: webdriver.Chrome, directory: Path) -> list[Path]:
    """Photograph the console with one call open into ``directory``; returns the files written."""
    hooks = make_hooks()
    written: list[Path] = []
    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        for call_id, tag in (("c-8d2kq0w3a9", "sales"), ("c-4hx7mzp2e1", "support"), ("c-1qv5tn8r6b", None)):
            send_call(client, hooks, call_id, tag=tag)
        authorize(browser, *CONSOLE)
        browser.get(f"{server.url}/_console/#open=c-4hx7mzp2e1")
        wait_for(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, "#timeline-entries li")) == 3)
        directory.mkdir(parents=True, exist_ok=True)
        try:
            for name, (width, height) in SHOTS.items():
                browser.set_window_size(width, height)
                wait_for(browser, lambda b, w=width: b.execute_script("return window.innerWidth") <= w)
                path = directory / name
                browser.save_screenshot(str(path))
                written.append(path)
        finally:
            browser.set_window_size(1280, 900)
            browser.get("about:blank")  # its event stream closes before the server stops
    return written


def main(argv: list[str]) -> int:
    browser = new_browser()
    try:
        for path in take(browser, Path(argv[0]) if argv else DOCS):
            print(path)
    finally:
        browser.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
