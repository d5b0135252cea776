"""The console's Replay and Edit & replay buttons, the store in its header and transfer legs linked to their
parent call, in a real headless Chromium over loopback."""

from __future__ import annotations

import json

from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.browser.test_console import open_console, rows, served, timeline
from tests.console.support import APP, CALLER, make_hooks, path_of, send_call
from tests.helpers.browser import wait_for


def entry(browser: webdriver.Chrome, index: int) -> webdriver.remote.webelement.WebElement:
    found: webdriver.remote.webelement.WebElement = browser.find_elements(By.CSS_SELECTOR, "#timeline-entries > li")[
        index
    ]
    return found


def result_text(browser: webdriver.Chrome, index: int) -> str:
    text: str = browser.execute_script(
        "const li = document.querySelectorAll('#timeline-entries > li')[arguments[0]];"
        "const r = li && li.querySelector('.replay-result'); return r ? r.innerText : '';",
        index,
    )
    return text


def test_replay_is_a_duplicate_and_an_edited_replay_runs_the_handler(browser: webdriver.Chrome) -> None:
    hooks = make_hooks(store="memory://")  # the exactly-once guarantees on
    with served(hooks, browser) as (url, client):
        open_console(browser, f"{url}/_console/")
        header = browser.find_element(By.ID, "store").text
        assert "memory://" in header and "exactly-once on" in header
        assert "Event span" in browser.find_element(By.ID, "calls").text
        send_call(client, hooks, "c-replay")
        wait_for(browser, lambda b: rows(b) == ["c-replay"])
        browser.find_element(By.CSS_SELECTOR, "#call-rows tr a").click()
        wait_for(browser, lambda b: len(timeline(b)) == 3)
        assert "Event span (first to last event)" in browser.find_element(By.ID, "timeline-summary").text

        entry(browser, 0).find_element(By.CLASS_NAME, "replay-plain").click()
        wait_for(browser, lambda b: "Duplicate" in result_text(b, 0))
        assert "already handled" in result_text(browser, 0) and "answered 200" in result_text(browser, 0)
        wait_for(browser, lambda b: len(timeline(b)) == 4)  # the replay is in the timeline, marked
        assert "replayed from the console: #" in timeline(browser)[3]["text"]
        assert "duplicate (already handled)" in timeline(browser)[3]["text"]

        # Edit & replay: a person changes the caller's number in the payload and sends it.
        entry(browser, 0).find_element(By.CLASS_NAME, "replay-edit").click()
        editor = entry(browser, 0).find_element(By.CLASS_NAME, "payload-editor")
        assert json.loads(editor.get_attribute("value") or "")["from"] == CALLER
        editor.clear()
        edited = {"eventType": "answer", "callId": "c-replay", "from": "+19195550123", "to": APP}
        editor.send_keys(json.dumps(edited))
        entry(browser, 0).find_element(By.CLASS_NAME, "replay-send").click()
        wait_for(browser, lambda b: "Handled" in result_text(b, 0))
        shown = result_text(browser, 0)
        assert "answered" in shown and "<SpeakSentence" in shown and "200" in shown
        wait_for(browser, lambda b: len(timeline(b)) == 5)
        latest = timeline(browser)[4]
        assert ", edited" in latest["text"] and json.loads(latest["payload"] or "")["from"] == "+19195550123"
        # The timeline grew twice while the editor was open: it is still there, with what was typed.
        assert entry(browser, 0).find_element(By.CLASS_NAME, "editor").is_displayed()
        assert "+19195550123" in (
            entry(browser, 0).find_element(By.CLASS_NAME, "payload-editor").get_attribute("value") or ""
        )

        # An edit the receiver refuses is shown with its status, not thrown.
        editor = entry(browser, 0).find_element(By.CLASS_NAME, "payload-editor")
        editor.clear()
        editor.send_keys('{"eventType": "answer", "callId": 5}')
        entry(browser, 0).find_element(By.CLASS_NAME, "replay-send").click()
        wait_for(browser, lambda b: "Refused: refused by the receiver" in result_text(b, 0))
        assert "422" in result_text(browser, 0)


def test_a_masked_console_says_replay_is_off(browser: webdriver.Chrome) -> None:
    hooks = make_hooks(console_mask_numbers=True)
    with served(hooks, browser) as (url, client):
        open_console(browser, f"{url}/_console/")
        send_call(client, hooks, "c-masked")
        wait_for(browser, lambda b: rows(b) == ["c-masked"])
        browser.find_element(By.CSS_SELECTOR, "#call-rows tr a").click()
        wait_for(browser, lambda b: len(timeline(b)) == 3)
        assert browser.find_elements(By.CLASS_NAME, "replay-plain") == []
        assert "Replay is off" in browser.find_element(By.ID, "replay-note").text


def test_a_transfer_leg_links_to_its_parent_call(browser: webdriver.Chrome) -> None:
    hooks = make_hooks()
    sales = "+19195550199"
    with served(hooks, browser) as (url, client):
        open_console(browser, f"{url}/_console/")
        path = path_of(hooks.callback_url(public_url=url))
        for body in (
            {"eventType": "answer", "callId": "c-a-leg", "from": APP, "to": CALLER},
            {"eventType": "answer", "callId": "c-b-leg", "from": APP, "to": sales},
            {"eventType": "transferComplete", "callId": "c-a-leg", "from": APP, "to": sales},
        ):
            assert client.post(path, json=body).status_code == 200
        wait_for(browser, lambda b: sorted(rows(b)) == ["c-a-leg", "c-b-leg"])
        wait_for(browser, lambda b: "transfer leg" in b.find_element(By.CSS_SELECTOR, '[data-call-id="c-b-leg"]').text)
        browser.find_element(By.LINK_TEXT, "c-b-leg").click()
        wait_for(browser, lambda b: "Transfer leg of" in b.find_element(By.ID, "timeline-summary").text)
        browser.find_element(By.CSS_SELECTOR, "#timeline-summary a.call-link").click()
        wait_for(browser, lambda b: b.find_element(By.ID, "timeline-call").text == "c-a-leg")
        summary = browser.find_element(By.ID, "timeline-summary").text
        assert "Transfer legs" in summary and "c-b-leg" in summary
