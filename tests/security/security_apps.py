"""Apps the security tests start in server processes (uvicorn CLI, ``callhooks run``, gunicorn)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Mount

from callhooks import CallHooks

SECRET = "security-log-secret"
# No path: served standalone, callbacks are at the root; `mounted` serves them under /hooks.
PUBLIC_URL = "http://127.0.0.1"

hooks = CallHooks(secret=SECRET, public_url=PUBLIC_URL)
mounted = Starlette(routes=[Mount("/hooks", hooks)])
