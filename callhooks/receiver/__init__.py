"""The receiver parts below the ASGI shell: verification, guarantees, dispatch, settings, observation."""
