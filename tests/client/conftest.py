"""The client tests' stand-in platform (``tests.client.recorder``): its fixtures, shared by every module here."""

from tests.client.recorder import platform, served

__all__ = ["platform", "served"]
