"""The phone page speaks what a call says and plays the audio URLs it is given, in a real headless Chromium.

Headless Chromium may have no speech voice, so the tests put a recorder in place of ``window.speechSynthesis``
before the call starts (what the page asks the browser to say is what is checked), and take it away to check
that the page then shows the words and says why. Audio files come from a small server on 127.0.0.1.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callhooks.testing.server import serve
from tests.browser.test_phone_browser import claim_on_page, dial_from_page, heard, only_panel, open_phone, panels
from tests.helpers.browser import wait_for
from tests.simulator.phone_support import OTHER_NUMBER, PROMPT, PhoneEnv, phone_env

pytestmark = pytest.mark.timeout(90)

# In place of the browser's speech synthesis: records each utterance's text (and the page's uncaught errors).
RECORD_SPEECH = """
window.__spoken = [];
window.__errors = [];
window.addEventListener('error', (e) => window.__errors.push(String(e.message)));
window.addEventListener('unhandledrejection', (e) => window.__errors.push(String(e.reason)));
Object.defineProperty(window, 'speechSynthesis', {configurable: true, value: {
    speak: (utterance) => window.__spoken.push(utterance.text), cancel: () => {},
    getVoices: () => [{name: 'recorder'}], speaking: false}});
"""
NO_SPEECH = """
window.__errors = [];
window.addEventListener('error', (e) => window.__errors.push(String(e.message)));
window.addEventListener('unhandledrejection', (e) => window.__errors.push(String(e.reason)));
Object.defineProperty(window, 'speechSynthesis', {configurable: true, value: undefined});
"""


@pytest.fixture
def env(browser: webdriver.Chrome) -> Iterator[PhoneEnv]:
    with phone_env() as running:
        yield running
        browser.get("about:blank")


def spoken(browser: webdriver.Chrome) -> list[str]:
    found: list[str] = browser.execute_script("return window.__spoken;")
    return found


def errors(browser: webdriver.Chrome) -> list[str]:
    found: list[str] = browser.execute_script("return window.__errors;")
    return found


def tone() -> bytes:
    """A quarter second of a 440 Hz tone as a WAV file."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        samples = (int(8000 * math.sin(2 * math.pi * 440 * n / 8000)) for n in range(2000))
        out.writeframes(b"".join(struct.pack("<h", sample) for sample in samples))
    return buffer.getvalue()


def audio_files() -> Starlette:
    wav = tone()

    async def menu(request: Request) -> Response:
        return Response(wav, media_type="audio/wav")

    async def missing(request: Request) -> Response:
        return Response("no such file", status_code=404)

    return Starlette(routes=[Route("/menu.wav", menu), Route("/missing.wav", missing)])


def test_the_page_speaks_each_sentence_once_and_not_again_after_a_reload(
    browser: webdriver.Chrome, env: PhoneEnv
) -> None:
    open_phone(browser, env)
    browser.execute_script(RECORD_SPEECH)
    panel = dial_from_page(browser)
    wait_for(browser, lambda b: spoken(b) == [PROMPT])
    panel.find_element(By.CSS_SELECTOR, '.keypad [data-key="4"]').click()
    panel.find_element(By.CSS_SELECTOR, '.keypad [data-key="2"]').click()
    wait_for(browser, lambda b: spoken(b) == [PROMPT, "You pressed 42."])
    assert panel.find_element(By.CLASS_NAME, "sound-note").text == ""  # a voice spoke: no note
    # A reloaded page shows what was said, and does not say it again.
    open_phone(browser, env)
    browser.execute_script(RECORD_SPEECH)
    panel = only_panel(browser)
    wait_for(browser, lambda b: "You pressed 42." in heard(panel))
    # Sound off: a new call's prompt is shown, not spoken.
    browser.find_element(By.ID, "sound").click()
    browser.find_element(By.ID, "dial").click()
    wait_for(browser, lambda b: len(panels(b)) == 2 and PROMPT in heard(panels(b)[0]))
    assert spoken(browser) == [] and errors(browser) == []


def test_without_speech_synthesis_the_words_are_shown_and_a_note_says_why(
    browser: webdriver.Chrome, env: PhoneEnv
) -> None:
    open_phone(browser, env)
    browser.execute_script(NO_SPEECH)
    panel = dial_from_page(browser)
    wait_for(browser, lambda b: PROMPT in heard(panel))
    wait_for(browser, lambda b: "cannot speak" in panel.find_element(By.CLASS_NAME, "sound-note").text)
    assert errors(browser) == []


def test_audio_urls_play_in_an_audio_element_and_a_file_that_fails_is_named(
    browser: webdriver.Chrome, env: PhoneEnv
) -> None:
    with serve(audio_files()) as files:
        open_phone(browser, env)
        browser.execute_script(RECORD_SPEECH)
        claim_on_page(browser, OTHER_NUMBER)
        good = f"{files.url}/menu.wav"
        call_id = env.place_call(OTHER_NUMBER, play=good)
        panel = only_panel(browser)
        assert panel.get_attribute("data-call-id") == call_id
        wait_for(browser, lambda b: panel.find_element(By.CSS_SELECTOR, '[data-action="answer"]').is_displayed())
        panel.find_element(By.CSS_SELECTOR, '[data-action="answer"]').click()
        wait_for(browser, lambda b: good in heard(panel))
        audio = wait_for(browser, lambda b: panel.find_elements(By.CSS_SELECTOR, "audio.player"))[0]
        assert audio.get_attribute("src") == good
        # The file loaded (its length is known); no note, nothing thrown.
        wait_for(browser, lambda b: b.execute_script("return arguments[0].duration > 0;", audio))
        assert panel.find_element(By.CLASS_NAME, "sound-note").text == "" and errors(browser) == []
        panel.find_element(By.CSS_SELECTOR, '[data-action="hangup"]').click()

        bad = f"{files.url}/missing.wav"
        second = env.place_call(OTHER_NUMBER, play=bad)
        ringing = wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, f'.call[data-call-id="{second}"]'))
        wait_for(browser, lambda b: ringing.find_element(By.CSS_SELECTOR, '[data-action="answer"]').is_displayed())
        ringing.find_element(By.CSS_SELECTOR, '[data-action="answer"]').click()
        wait_for(browser, lambda b: f"Could not play {bad}" in ringing.find_element(By.CLASS_NAME, "sound-note").text)
        assert errors(browser) == [] and spoken(browser) == []
        browser.get("about:blank")  # the page's stream closes before the servers stop
