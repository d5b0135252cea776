"""Issue 23, finding 6, in a real headless Chromium: a page on another origin, opened by someone whose browser holds
the simulator's credentials (as after using the phone page), submits forms to the simulator. No call is created.

The forms are the three a page may send without asking: ``text/plain`` (its one field spells a JSON body),
urlencoded and multipart. Each posts into an iframe; the page counts the iframes' loads, so the test knows every
request was answered before it looks.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator

import pytest
from selenium import webdriver
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from callhooks.testing import running_simulator, serve
from callhooks.testing.simulation import SimulatorSession
from tests.helpers.browser import authorize, wait_for

pytestmark = pytest.mark.timeout(90)

ENCODINGS = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")


def attack_page(target: str, callback_url: str) -> str:
    """Three auto-submitting forms posting a new call to ``target``; the title counts the answered ones."""
    body = json.dumps({"from": "+19195550100", "to": "+19195551313", "callbackUrl": callback_url, "x": ""})
    # text/plain sends "name=value": a name holding the JSON up to the last quote, the value closing it
    plain_name, plain_value = body[:-2], '"}'
    forms = []
    for index, encoding in enumerate(ENCODINGS):
        if encoding == "text/plain":
            fields = f'<input name="{html.escape(plain_name)}" value="{html.escape(plain_value)}">'
        else:
            fields = '<input name="from" value="+19195550100"><input name="to" value="+19195551313">'
        forms.append(
            f'<iframe name="f{index}"></iframe>'
            f'<form action="{target}" method="post" enctype="{encoding}" target="f{index}">{fields}</form>'
        )
    script = (
        "let answered = 0; document.querySelectorAll('iframe').forEach((frame) => frame.addEventListener("
        "'load', () => { answered += 1; document.title = 'answered ' + answered; }));"
        "document.querySelectorAll('form').forEach((form) => form.submit());"
    )
    return f"<!doctype html><title>answered 0</title>{''.join(forms)}<script>{script}</script>"


@pytest.fixture
def simulator() -> Iterator[SimulatorSession]:
    with running_simulator(speed=1) as session:
        yield session


def test_forms_from_another_origin_create_no_call(browser: webdriver.Chrome, simulator: SimulatorSession) -> None:
    target = f"{simulator.url}/v1/users/{simulator.user_id}/calls"
    seen: list[str] = []

    async def record(request: Request) -> Response:
        seen.append(request.method)
        return Response(status_code=200)

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(attack_page(target, str(request.url_for("callback"))))

    evil = Starlette(routes=[Route("/", page), Route("/cb", record, methods=["POST"], name="callback")])
    with serve(evil) as attacker:
        assert attacker.url != simulator.url  # another port: another origin
        authorize(browser, simulator.api_token, simulator.api_secret)  # the credentials the browser holds
        browser.get(attacker.url + "/")
        wait_for(browser, lambda b: b.title == f"answered {len(ENCODINGS)}")
        browser.get("about:blank")
    assert list(simulator.client.calls.list()) == []
    assert seen == [] and simulator.simulator.sent == []
