"""Runnable examples: a standalone IVR (ivr.py) and callhooks mounted inside FastAPI (fastapi_app.py)."""
