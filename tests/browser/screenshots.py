"""Regenerate the guides' screenshots in docs/ from the real pages: ``python -m tests.browser.screenshots``
(the phone, docs/phone.png; the console at a laptop's and a phone's width, docs/console.png and
docs/console-phone.png, from tests/browser/console_screenshots.py).

Needs the test extra and Debian's chromium + chromium-driver (as the browser tests). Each shot drives the page
as a person would, waiting (with deadlines) for what it shows, then saves a PNG.
"""

from __future__ import annotations

import sys
from pathlib import Path

from callhooks.examples.ivr import MENU
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.browser.console_screenshots import take
from tests.helpers.browser import find_chromium, new_browser, wait_for
from tests.simulator.phone_support import phone_demo

DOCS = Path(__file__).resolve().parents[2] / "docs"
SILENT_VOICE = """Object.defineProperty(window, 'speechSynthesis', {configurable: true, value: {
    speak: () => {}, cancel: () => {}, getVoices: () => [{name: 'silent'}], speaking: false}});"""


def phone(browser: webdriver.Chrome) -> Path:
    """``callhooks demo --phone``: a call to the example IVR that pressed 1, and the sales line ringing."""
    with phone_demo() as demo:
        browser.set_window_size(1200, 1000)
        browser.get(demo.phone_url)
        wait_for(browser, lambda b: b.find_element(By.ID, "connection").text == "live")
        # Headless Chromium has no speech voice (the page would say so under the call): a silent stand-in
        # shows the page as a desktop browser with a voice does.
        browser.execute_script(SILENT_VOICE)
        browser.find_element(By.ID, "dial").click()
        wait_for(browser, lambda b: MENU in b.find_element(By.CSS_SELECTOR, "#calls .call").text)
        browser.find_element(By.CSS_SELECTOR, '#calls .call .keypad [data-key="1"]').click()
        wait_for(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, "#calls .call.ringing")) == 1)
        path = DOCS / "phone.png"
        browser.save_screenshot(str(path))
        browser.get("about:blank")
        demo.stop()
    return path


def main() -> int:
    if find_chromium() is None:
        print("screenshots need chromium and chromedriver: apt-get install chromium chromium-driver", file=sys.stderr)
        return 1
    DOCS.mkdir(exist_ok=True)
    browser = new_browser()
    try:
        print(phone(browser).relative_to(DOCS.parent))
        for path in take(browser, DOCS):
            print(path.relative_to(DOCS.parent))
    finally:
        browser.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
