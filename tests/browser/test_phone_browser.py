"""The phone page in a real headless Chromium over loopback: dial the app, hear it, press keys, hang up, and
answer or reject the calls the app places. Every wait is selenium's, with a deadline."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from callhooks.examples.ivr import MENU
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from tests.helpers.browser import authorize, wait_for
from tests.simulator.phone_support import (
    APP_NUMBER,
    HELLO,
    OTHER_NUMBER,
    PHONE_NUMBER,
    PROMPT,
    PhoneEnv,
    phone_demo,
    phone_env,
)

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def env(browser: webdriver.Chrome) -> Iterator[PhoneEnv]:
    with phone_env() as running:
        yield running
        browser.get("about:blank")  # closes the page's stream, so the simulator stops at once


def open_phone(browser: webdriver.Chrome, env: PhoneEnv) -> None:
    authorize(browser, env.session.api_token, env.session.api_secret)
    browser.get(f"{env.session.url}/_sim/phone")
    wait_for(browser, lambda b: b.find_element(By.ID, "connection").text == "live")


def panels(browser: webdriver.Chrome) -> list[WebElement]:
    return browser.find_elements(By.CSS_SELECTOR, "#calls .call")


def only_panel(browser: webdriver.Chrome) -> WebElement:
    return wait_for(browser, lambda b: (found := panels(b)) and len(found) == 1 and found[0])


def heard(panel: WebElement) -> list[str]:
    return [item.text for item in panel.find_elements(By.CSS_SELECTOR, ".heard .text")]


def dial_from_page(browser: webdriver.Chrome, to: str = APP_NUMBER) -> WebElement:
    assert browser.find_element(By.ID, "from").get_attribute("value") == PHONE_NUMBER
    target = browser.find_element(By.ID, "to")
    wait_for(browser, lambda b: target.get_attribute("value") == APP_NUMBER)  # the account's number, suggested
    if to != APP_NUMBER:
        target.clear()
        target.send_keys(to)
    browser.find_element(By.ID, "dial").click()
    return only_panel(browser)


def test_a_call_from_the_page_hears_the_app_and_its_keypad_and_keyboard_fill_the_gather(
    browser: webdriver.Chrome, env: PhoneEnv
) -> None:
    open_phone(browser, env)
    panel = dial_from_page(browser)
    wait_for(browser, lambda b: PROMPT in heard(panel))
    wait_for(browser, lambda b: "Waiting for digits" in panel.find_element(By.CLASS_NAME, "gather").text)
    panel.find_element(By.CSS_SELECTOR, '.keypad [data-key="4"]').click()
    wait_for(browser, lambda b: "Waiting for digits: 4" in panel.find_element(By.CLASS_NAME, "gather").text)
    panel.find_element(By.CSS_SELECTOR, '.keypad [data-key="4"]').send_keys("2")  # the keyboard's 2 on the panel
    wait_for(browser, lambda b: "You pressed 42." in heard(panel))
    assert env.seen.snapshot("gathers") == ["42"]
    call_id = panel.get_attribute("data-call-id")
    assert call_id is not None and env.session.event_types(call_id)[:4] == ["incomingcall", "answer", "dtmf", "dtmf"]


def test_hanging_up_on_the_page_ends_the_call_for_the_app(browser: webdriver.Chrome, env: PhoneEnv) -> None:
    open_phone(browser, env)
    panel = dial_from_page(browser)
    wait_for(browser, lambda b: panel.find_element(By.CLASS_NAME, "state").text == "on call")
    call_id = panel.get_attribute("data-call-id")
    assert call_id is not None
    panel.find_element(By.CSS_SELECTOR, '[data-action="hangup"]').click()
    wait_for(browser, lambda b: panel.find_element(By.CLASS_NAME, "state").text == "completed")
    assert not panel.find_element(By.CLASS_NAME, "keypad").is_displayed()
    assert "ended: NORMAL_CLEARING" in heard(panel)
    env.session.wait_for(lambda: env.seen.snapshot("hangups").get(call_id), what="the app to see the hangup")
    assert env.seen.snapshot("hangups")[call_id] == "NORMAL_CLEARING"


def claim_on_page(browser: webdriver.Chrome, number: str) -> None:
    browser.find_element(By.ID, "line").send_keys(number)
    browser.find_element(By.ID, "claim").click()
    wait_for(browser, lambda b: number in b.find_element(By.ID, "lines").text)


def test_a_call_the_app_places_rings_on_the_page_beside_another_and_is_answered_there(
    browser: webdriver.Chrome, env: PhoneEnv
) -> None:
    open_phone(browser, env)
    claim_on_page(browser, OTHER_NUMBER)
    first = dial_from_page(browser)  # a call already up: the ringing one gets its own panel
    call_id = env.place_call(OTHER_NUMBER)
    ringing = wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, f'.call[data-call-id="{call_id}"]'))
    assert len(panels(browser)) == 2 and panels(browser)[1] == first  # newest first
    wait_for(browser, lambda b: ringing.find_element(By.CLASS_NAME, "state").text == "ringing")
    assert env.seen.snapshot("answered") == [first.get_attribute("data-call-id")]  # nobody answered it yet
    ringing.find_element(By.CSS_SELECTOR, '[data-action="answer"]').click()
    wait_for(browser, lambda b: HELLO in heard(ringing))
    assert ringing.find_element(By.CLASS_NAME, "state").text == "on call"
    assert call_id in env.seen.snapshot("answered")


def test_a_call_the_app_places_is_rejected_from_the_page(browser: webdriver.Chrome, env: PhoneEnv) -> None:
    open_phone(browser, env)
    claim_on_page(browser, OTHER_NUMBER)
    call_id = env.place_call(OTHER_NUMBER)
    panel = only_panel(browser)
    assert panel.get_attribute("data-call-id") == call_id
    wait_for(browser, lambda b: panel.find_element(By.CSS_SELECTOR, '[data-action="reject"]').is_displayed())
    panel.find_element(By.CSS_SELECTOR, '[data-action="reject"]').click()
    wait_for(browser, lambda b: panel.find_element(By.CLASS_NAME, "state").text == "rejected")
    env.session.wait_for(lambda: env.seen.snapshot("hangups").get(call_id), what="the app to see the hangup")
    assert env.seen.snapshot("hangups")[call_id] == "CALL_REJECTED"
    assert env.seen.snapshot("answered") == []


def test_a_refused_action_is_shown_on_the_page(browser: webdriver.Chrome, env: PhoneEnv) -> None:
    open_phone(browser, env)
    target = browser.find_element(By.ID, "to")
    target.clear()
    target.send_keys("not a number")
    browser.find_element(By.ID, "dial").click()
    wait_for(browser, lambda b: "E.164" in b.find_element(By.ID, "message").text)
    assert panels(browser) == [] and env.session.simulator.engine.calls == {}


def test_the_page_fits_a_phone_screen(browser: webdriver.Chrome, env: PhoneEnv) -> None:
    size = browser.get_window_size()
    browser.set_window_size(390, 844)
    try:
        open_phone(browser, env)
        panel = dial_from_page(browser)
        wait_for(browser, lambda b: panel.find_element(By.CLASS_NAME, "keypad").is_displayed())
        overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0  # nothing wider than the screen: no sideways scrolling
        keys = panel.find_elements(By.CSS_SELECTOR, ".keypad button")
        assert len(keys) == 12 and all(key.is_displayed() and key.size["height"] >= 30 for key in keys)
    finally:
        browser.set_window_size(size["width"], size["height"])


def test_without_credentials_there_is_no_page(browser: webdriver.Chrome, env: PhoneEnv) -> None:
    browser.get(f"{env.session.url}/_sim/phone")
    assert browser.find_elements(By.ID, "dial") == []
    assert httpx.get(f"{env.session.url}/_sim/phone", timeout=10).status_code == 401


def test_the_demo_calls_the_example_ivr_from_the_url_it_prints(browser: webdriver.Chrome) -> None:
    with phone_demo() as demo:
        # The printed URL carries the credentials, as a newcomer pastes it; no header is added here.
        browser.get(demo.phone_url)
        wait_for(browser, lambda b: b.find_element(By.ID, "connection").text == "live")
        browser.find_element(By.ID, "dial").click()  # from the customer's number to the IVR's, both filled in
        panel = only_panel(browser)
        wait_for(browser, lambda b: MENU in heard(panel))
        panel.find_element(By.CSS_SELECTOR, '.keypad [data-key="9"]').click()
        wait_for(browser, lambda b: "Goodbye." in heard(panel))
        wait_for(browser, lambda b: panel.find_element(By.CLASS_NAME, "state").text == "completed")
        assert demo.stop() == 0
        assert any("gather" in line and "menu_choice" in line for line in demo.output)
