"""The peers, each written as a user would write it, plus the tally every handler bumps.

Each module holds ``app`` (what uvicorn serves) and ``tally`` (how many events its handlers saw), which the
driver reads through ``benchmarks.serve``'s control port so that nothing is measured that was not handled.
"""

#: Catapult v1's peers, by name: the module serving each.
PEERS: dict[str, str] = {
    "starlette": "benchmarks.apps.starlette_app",
    "fastapi": "benchmarks.apps.fastapi_app",
    "raw-asgi": "benchmarks.apps.raw_asgi_app",
    "callhooks": "benchmarks.apps.callhooks_app",
}

#: Each platform's peers (``python -m benchmarks --platform``). Bandwidth v2 posts JSON like Catapult, so the same
#: bare Starlette and raw ASGI endpoints serve it; Twilio posts forms. FastAPI's peer models Catapult's callback
#: only.
PLATFORM_PEERS: dict[str, dict[str, str]] = {
    "catapult": PEERS,
    "bandwidth": {
        "starlette": PEERS["starlette"],
        "raw-asgi": PEERS["raw-asgi"],
        "callhooks": "benchmarks.apps.callhooks_bandwidth_app",
    },
    "twilio": {"starlette": "benchmarks.apps.starlette_form_app", "callhooks": "benchmarks.apps.callhooks_twilio_app"},
}
