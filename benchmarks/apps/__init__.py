"""The peers, each written as a user would write it, plus the tally every handler bumps.

Each module holds ``app`` (what uvicorn serves) and ``tally`` (how many events its handlers saw), which the
driver reads through ``benchmarks.serve``'s control port so that nothing is measured that was not handled.
"""

PEERS: dict[str, str] = {
    "starlette": "benchmarks.apps.starlette_app",
    "fastapi": "benchmarks.apps.fastapi_app",
    "raw-asgi": "benchmarks.apps.raw_asgi_app",
    "callhooks": "benchmarks.apps.callhooks_app",
}
