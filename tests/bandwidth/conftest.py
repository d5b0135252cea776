"""The recording stand-in platform (``tests.client.recorder``), offered to the Bandwidth client tests."""

from tests.client.recorder import platform, served

__all__ = ["platform", "served"]
