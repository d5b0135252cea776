"""The console in a real headless Chromium over loopback: calls appear live (no reload) as the simulator
places them to the example IVR or as signed requests arrive; the timeline shows payloads, the answer and a
handler's traceback; the filter narrows the list and travels in the URL; wrong credentials and callback
tokens get no console."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from callhooks.examples.ivr import create_app as create_ivr
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from callhooks import CallHooks
from callhooks.simulator import FarEnd
from callhooks.testing import running_simulator
from callhooks.testing.server import serve
from tests.browser.console_screenshots import take
from tests.console.support import CALLER, CONSOLE, make_hooks, send_call
from tests.helpers.browser import authorize, wait_for

APP, CUSTOMER = "+19195550100", "+19195551313"


# The page redraws as notices arrive, so what a test reads is read in one script (no stale elements).
def rows(browser: webdriver.Chrome) -> list[str]:
    """The call ids listed, top to bottom."""
    found: list[str] = browser.execute_script(
        "return [...document.querySelectorAll('#call-rows tr')].map(r => r.dataset.callId);"
    )
    return found


def cells(browser: webdriver.Chrome) -> list[list[str]]:
    """Each listed call's cells, as shown."""
    found: list[list[str]] = browser.execute_script(
        "return [...document.querySelectorAll('#call-rows tr')].map(r => [...r.cells].map(c => c.innerText));"
    )
    return found


def timeline(browser: webdriver.Chrome) -> list[dict[str, str]]:
    """The open call's timeline entries: kind, event type, text, and the text of each block."""
    found: list[dict[str, str]] = browser.execute_script(
        """return [...document.querySelectorAll('#timeline-entries li')].map(li => {
            const pre = (name) => { const p = li.querySelector('pre.' + name); return p ? p.textContent : null; };
            return {kind: li.dataset.kind, type: li.dataset.eventType || '', text: li.innerText,
                    payload: pre('payload'), response: pre('response'), traceback: pre('traceback')};
        });"""
    )
    return found


def press(browser: webdriver.Chrome, selector: str, keys: str = Keys.ENTER) -> bool:
    """Send ``keys`` to the element (False when it was being redrawn: the caller's wait tries again)."""
    try:
        browser.find_element(By.CSS_SELECTOR, selector).send_keys(keys)
    except (StaleElementReferenceException, NoSuchElementException):
        return False
    return True


def mark_page(browser: webdriver.Chrome) -> None:
    """Leave a mark in this page's JavaScript state: a reload would wipe it."""
    browser.execute_script("window.__notReloaded = true;")


def not_reloaded(browser: webdriver.Chrome) -> bool:
    return bool(browser.execute_script("return window.__notReloaded === true;"))


def open_console(browser: webdriver.Chrome, url: str) -> None:
    authorize(browser, *CONSOLE)
    browser.get(url)
    wait_for(browser, lambda b: b.find_element(By.ID, "live").text == "live")
    mark_page(browser)


@contextmanager
def served(hooks: CallHooks, browser: webdriver.Chrome) -> Iterator[tuple[str, httpx.Client]]:
    """``hooks`` on a real server; the page is left before it stops, so its event stream does not hold the
    server's graceful shutdown open."""
    with serve(hooks) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        try:
            yield server.url, client
        finally:
            browser.get("about:blank")


def test_a_call_to_the_example_ivr_appears_live_with_its_timeline(browser: webdriver.Chrome) -> None:
    with running_simulator() as session:
        hooks = create_ivr(
            {**session.environ, "CALLHOOKS_SECRET": "browser-ivr-secret", "CALLHOOKS_CONSOLE": ":".join(CONSOLE)}
        )
        session.script(CUSTOMER, FarEnd(digits="9", hangup_after=None))
        with session.receiver(hooks) as url:
            open_console(browser, f"{url}/_console/")
            assert rows(browser) == []
            call_id = session.place_inbound(CUSTOMER, APP, callback_url=hooks.callback_url(max_age=None))
            wait_for(browser, lambda b: rows(b) == [call_id])
            assert cells(browser)[0][1:4] == ["in", CUSTOMER, APP]
            # The caller presses 9, hears goodbye, the IVR hangs up: each event arrives without a reload.
            wait_for(browser, lambda b: cells(b)[0][4] == "completed")
            wait_for(browser, lambda b: press(b, "#call-rows tr a"))
            wait_for(browser, lambda b: [e["type"] for e in timeline(b)][-1:] == ["hangup"])
            entries = timeline(browser)
            kinds = [entry["type"] for entry in entries]
            assert kinds[:2] == ["incomingcall", "answer"] and "gather" in kinds
            assert json.loads(entries[0]["payload"])["eventType"] == "incomingcall"
            gather = entries[kinds.index("gather")]
            assert "main-menu" in gather["text"] and "menu_choice" in gather["text"]
            assert json.loads(gather["payload"])["digits"] == "9"
            export = browser.find_element(By.ID, "export").get_attribute("href") or ""
            assert export.endswith(f"/_console/api/calls/{call_id}/export")
            assert not_reloaded(browser)
            assert f"open={call_id}" in browser.current_url
            browser.get("about:blank")  # the page's event stream closes before the receiver stops


def test_timeline_shows_payloads_the_bxml_answer_and_a_traceback(browser: webdriver.Chrome) -> None:
    hooks = make_hooks()
    with served(hooks, browser) as (url, client):
        open_console(browser, f"{url}/_console/")
        send_call(client, hooks, "c-broken")
        wait_for(browser, lambda b: rows(b) == ["c-broken"])
        assert cells(browser)[0][-1].endswith("error")
        wait_for(browser, lambda b: press(b, "#call-rows tr a"))  # keyboard: the call id is a link
        wait_for(browser, lambda b: len(timeline(b)) == 3)
        answer, gather, hangup = timeline(browser)
        assert "Answer (BXML)" in answer["text"] and "<SpeakSentence" in (answer["response"] or "")
        assert json.loads(answer["payload"])["from"] == CALLER
        assert (gather["payload"] or "").startswith("eventType=gather&")
        traceback = hangup["traceback"] or ""
        assert "Traceback (most recent call last)" in traceback and "RuntimeError: handler bug for" in traceback
        assert "→ 500" in hangup["text"]
        assert not_reloaded(browser)


def test_a_call_whose_id_holds_a_slash_opens_in_the_page(browser: webdriver.Chrome) -> None:
    """Issue 23, finding 11: the page asks for ``api/calls/a%2Fb``; that call's timeline opens (it was a 404)."""
    hooks = make_hooks()
    with served(hooks, browser) as (url, client):
        open_console(browser, f"{url}/_console/")
        send_call(client, hooks, "branch/7")
        wait_for(browser, lambda b: rows(b) == ["branch/7"])
        wait_for(browser, lambda b: press(b, "#call-rows tr a"))
        wait_for(browser, lambda b: len(timeline(b)) == 3)
        assert browser.find_element(By.ID, "timeline-call").text == "branch/7"
        export = browser.find_element(By.ID, "export").get_attribute("href") or ""
        assert export.endswith("/_console/api/calls/branch%2F7/export")
        assert client.get(export.removeprefix(url), auth=CONSOLE).json()["callId"] == "branch/7"


def test_filter_narrows_the_list_and_the_url_carries_it(browser: webdriver.Chrome) -> None:
    hooks = make_hooks()
    with served(hooks, browser) as (url, client):
        open_console(browser, f"{url}/_console/")
        send_call(client, hooks, "c-sales", tag="sales")
        send_call(client, hooks, "c-support", tag="support")
        wait_for(browser, lambda b: rows(b) == ["c-support", "c-sales"])
        browser.find_element(By.ID, "f-tag").send_keys("sales")
        wait_for(browser, lambda b: rows(b) == ["c-sales"])
        wait_for(browser, lambda b: "tag=sales" in b.current_url)
        shared_link = browser.current_url
        # A call arriving now that the filter does not match stays out of the list.
        send_call(client, hooks, "c-other")
        wait_for(browser, lambda b: "(1)" in b.find_element(By.ID, "call-count").text)
        assert rows(browser) == ["c-sales"] and not_reloaded(browser)
        # The search box, and the shared link opened afresh.
        browser.get("about:blank")
        browser.get(shared_link)
        wait_for(browser, lambda b: rows(b) == ["c-sales"])
        assert browser.find_element(By.ID, "f-tag").get_attribute("value") == "sales"
        browser.find_element(By.ID, "f-clear").click()
        wait_for(browser, lambda b: rows(b) == ["c-other", "c-support", "c-sales"])
        browser.find_element(By.ID, "f-q").send_keys("c-supp")
        wait_for(browser, lambda b: rows(b) == ["c-support"])
        wait_for(browser, lambda b: "q=c-supp" in b.current_url)


@pytest.mark.parametrize("credentials", [("admin", "wrong-password"), ("someone", CONSOLE[1]), None])
def test_wrong_console_credentials_get_401_and_no_page(
    browser: webdriver.Chrome, credentials: tuple[str, str] | None
) -> None:
    hooks = make_hooks()
    with served(hooks, browser) as (url, client):
        if credentials is not None:
            authorize(browser, *credentials)
        browser.get(f"{url}/_console/")
        assert browser.find_elements(By.ID, "calls") == []
        auth = credentials or ("", "")
        assert client.get("/_console/", auth=auth).status_code == 401


def test_a_callback_token_url_gets_no_console_page(browser: webdriver.Chrome) -> None:
    hooks = make_hooks()
    with served(hooks, browser) as (url, _client):
        callback = hooks.callback_url(public_url=url)
        authorize(browser, *CONSOLE)  # even with the console's credentials, a callback URL is no console
        for address in (callback, f"{callback}/_console/", f"{url}/_console/{callback.rsplit('/', 1)[1]}"):
            browser.get(address)
            assert browser.find_elements(By.ID, "calls") == [], address
        browser.get(f"{url}/_console/")
        wait_for(browser, lambda b: b.find_elements(By.ID, "calls") != [])


def test_keyboard_and_phone_width(browser: webdriver.Chrome) -> None:
    hooks = make_hooks()
    with served(hooks, browser) as (url, client):
        open_console(browser, f"{url}/_console/")
        send_call(client, hooks, "c-keys")
        wait_for(browser, lambda b: rows(b) == ["c-keys"])
        body = browser.find_element(By.TAG_NAME, "body")
        body.send_keys("/")  # "/" jumps to the search box
        assert browser.switch_to.active_element.get_attribute("id") == "f-q"
        browser.switch_to.active_element.send_keys(Keys.TAB)  # and on through the filters
        assert browser.switch_to.active_element.get_attribute("id") == "f-call"
        wait_for(browser, lambda b: press(b, "#call-rows tr a"))
        wait_for(browser, lambda b: len(timeline(b)) == 3)
        assert browser.switch_to.active_element.get_attribute("id") == "timeline-title"  # focus follows
        browser.switch_to.active_element.send_keys(Keys.ESCAPE)
        wait_for(browser, lambda b: not b.find_element(By.ID, "timeline").is_displayed())
        assert "open=" not in browser.current_url
        # On a phone's width nothing but the calls table (which scrolls in its own box) is wider than the screen.
        try:
            browser.set_window_size(390, 844)
            wait_for(browser, lambda b: b.execute_script("return window.innerWidth") < 500)
            overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth;")
            assert overflow <= 0
        finally:
            browser.set_window_size(1280, 900)


def test_the_screenshot_command_photographs_the_console(browser: webdriver.Chrome, tmp_path: Path) -> None:
    written = take(browser, tmp_path)
    assert [path.name for path in written] == ["console.png", "console-phone.png"]
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
