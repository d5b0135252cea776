"""What a newcomer does after `callhooks demo --phone`: call the example IVR from the phone page and watch the
call in the receiver's console, both opened from the URLs the demo prints (credentials in them), in one
headless Chromium with two tabs."""

from __future__ import annotations

import json

import pytest
from callhooks.examples.ivr import MENU
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.browser.test_console import cells, mark_page, not_reloaded, press, rows, timeline
from tests.helpers.browser import wait_for
from tests.simulator.phone_support import APP_NUMBER, PHONE_NUMBER, phone_demo

pytestmark = pytest.mark.timeout(120)


def test_a_call_from_the_phone_page_shows_live_in_the_console_with_the_digits_pressed(
    browser: webdriver.Chrome,
) -> None:
    with phone_demo() as demo:
        assert demo.console_url.endswith("/_console/") and "@127.0.0.1:" in demo.console_url
        phone_tab = browser.current_window_handle
        browser.switch_to.new_window("tab")
        console_tab = browser.current_window_handle
        try:
            browser.get(demo.console_url)
            wait_for(browser, lambda b: b.find_element(By.ID, "live").text == "live")
            mark_page(browser)
            assert rows(browser) == []

            browser.switch_to.window(phone_tab)
            browser.get(demo.phone_url)
            wait_for(browser, lambda b: b.find_element(By.ID, "connection").text == "live")
            browser.find_element(By.ID, "dial").click()
            panel = wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#calls .call"))[0]
            wait_for(browser, lambda b: MENU in [t.text for t in panel.find_elements(By.CSS_SELECTOR, ".heard .text")])
            panel.find_element(By.CSS_SELECTOR, '.keypad [data-key="9"]').click()
            wait_for(browser, lambda b: panel.find_element(By.CLASS_NAME, "state").text == "completed")
            call_id = panel.get_attribute("data-call-id")

            # The console, never reloaded, has the call: inbound from the phone's number to the IVR's, ended.
            browser.switch_to.window(console_tab)
            wait_for(browser, lambda b: rows(b) == [call_id])
            wait_for(browser, lambda b: cells(b)[0][4] == "completed")
            assert cells(browser)[0][1:4] == ["in", PHONE_NUMBER, APP_NUMBER]
            assert not_reloaded(browser)
            wait_for(browser, lambda b: press(b, "#call-rows tr a"))
            wait_for(browser, lambda b: [e["type"] for e in timeline(b)][-1:] == ["hangup"])
            entries = timeline(browser)
            types = [entry["type"] for entry in entries]
            assert types[:2] == ["incomingcall", "answer"]
            # The key pressed on the page is the gather the IVR's handler saw.
            gather = entries[types.index("gather")]
            assert json.loads(gather["payload"])["digits"] == "9" and "menu_choice" in gather["text"]
        finally:
            browser.switch_to.window(console_tab)
            browser.close()
            browser.switch_to.window(phone_tab)
            browser.get("about:blank")
        assert demo.stop() == 0
