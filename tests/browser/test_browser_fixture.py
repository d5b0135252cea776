"""The shared headless Chromium works over loopback, and Basic credentials reach the page and its fetches."""

from __future__ import annotations

import base64

from selenium import webdriver
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from callhooks.testing.server import serve
from tests.helpers.browser import authorize, wait_for

PAGE = """<!doctype html><title>probe</title><p id="out">waiting</p>
<script>
fetch("who").then(r => r.json()).then(j => { document.getElementById("out").textContent = j.user; });
</script>"""


def _user(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if not header.startswith("Basic "):
        return None
    return base64.b64decode(header[6:]).decode().partition(":")[0]


async def page(request: Request) -> Response:
    if _user(request) is None:
        return Response(status_code=401, headers={"www-authenticate": 'Basic realm="probe"'})
    return HTMLResponse(PAGE)


async def who(request: Request) -> JSONResponse:
    return JSONResponse({"user": _user(request) or "nobody"})


def test_headless_chromium_sends_basic_credentials_with_page_and_fetches(browser: webdriver.Chrome) -> None:
    app = Starlette(routes=[Route("/page", page), Route("/who", who)])
    with serve(app) as server:
        browser.get(f"{server.url}/page")
        assert browser.find_elements("id", "out") == []  # refused without credentials: a 401, not the page
        authorize(browser, "alice", "s3cret")
        browser.get(f"{server.url}/page")
        wait_for(browser, lambda b: b.find_element("id", "out").text == "alice")
