"""The console's screenshots (``python -m tests.browser.screenshots`` regenerates every screenshot in docs/).

A receiver with a console is served on 127.0.0.1, a few signed callbacks are sent to it (one call with a BXML
answer, one whose handler fails, a transfer), the open call's answer is replayed (a duplicate) and its editor
opened, and the page is photographed by headless Chromium at a laptop's and a phone's width. Needs Debian's
chromium and chromium-driver (see tests/helpers/browser.py).
"""

from __future__ import annotations

from pathlib import Path

import httpx
from selenium import webdriver
from selenium.webdriver.common.by import By

from callhooks.testing.server import serve
from tests.console.support import APP, CONSOLE, make_hooks, path_of, send_call
from tests.helpers.browser import authorize, wait_for

DOCS = Path(__file__).resolve().parents[2] / "docs"
SHOTS = {"console.png": (1280, 1900), "console-phone.png": (390, 1500)}


def take(browser: webdriver.Chrome, directory: Path) -> list[Path]:
    """Photograph the console with one call open into ``directory``; returns the files written."""
    hooks = make_hooks(store="memory://")
    written: list[Path] = []
    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        path = path_of(hooks.callback_url(public_url=server.url))
        for body in (
            {"eventType": "answer", "callId": "c-7ta2lp5e0s", "from": APP, "to": "+19195551313"},
            {"eventType": "answer", "callId": "c-9sb4wq1k3m", "from": APP, "to": "+19195550199"},
            {"eventType": "transferComplete", "callId": "c-7ta2lp5e0s", "from": APP, "to": "+19195550199"},
        ):
            client.post(path, json=body).raise_for_status()
        for call_id, tag in (("c-8d2kq0w3a9", "sales"), ("c-4hx7mzp2e1", "support"), ("c-1qv5tn8r6b", None)):
            send_call(client, hooks, call_id, tag=tag)
        authorize(browser, *CONSOLE)
        browser.get(f"{server.url}/_console/#open=c-4hx7mzp2e1")
        entries = "#timeline-entries > li"
        wait_for(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, entries)) == 3)
        answer = browser.find_element(By.CSS_SELECTOR, entries)
        answer.find_element(By.CLASS_NAME, "replay-plain").click()
        wait_for(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, entries)) == 4)
        wait_for(browser, lambda b: "Duplicate" in answer.find_element(By.CLASS_NAME, "replay-result").text)
        answer.find_element(By.CLASS_NAME, "replay-edit").click()
        browser.execute_script("document.activeElement.blur(); window.scrollTo(0, 0);")
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
