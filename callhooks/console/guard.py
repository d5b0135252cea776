"""The console's only write (a replay) is refused to other sites: a browser that holds the console's Basic
credentials sends them with any page's request, so a foreign page could otherwise make it replay events.

A POST must be JSON (``application/json``: a plain HTML form cannot send that, and a foreign page's fetch of it
needs a CORS preflight the console never answers), must not come from another site by the browser's own word
(``Sec-Fetch-Site``), and its ``Origin``, when sent, must be this host. Tools such as curl send neither header
and carry the credentials themselves: they pass.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from starlette.datastructures import Headers

__all__ = ["cross_site_problem"]

_SAME_SITE_FETCHES: Final = ("same-origin", "none")


def cross_site_problem(headers: Headers) -> tuple[int, str, str] | None:
    """Why a console POST with ``headers`` is refused (status, error code, detail), or ``None`` to accept it."""
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        return 415, "unsupported-media-type", "the console's API takes a JSON body (Content-Type: application/json)"
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site.lower() not in _SAME_SITE_FETCHES:
        return 403, "cross-site", f"the console refuses requests from other sites (Sec-Fetch-Site: {fetch_site[:40]})"
    origin = headers.get("origin")
    if origin is not None:
        host = headers.get("host", "").lower()
        try:
            origin_host = urlsplit(origin).netloc.lower()
        except ValueError:
            origin_host = ""
        if not host or origin_host != host:
            shown = origin[:100].encode("ascii", "replace").decode()
            return 403, "cross-origin", f"the console refuses requests from another origin ({shown})"
    return None
