"""Security regression tests reuse the client tests' stand-in platform (``tests.client.recorder``)."""

from tests.client.recorder import platform, served

__all__ = ["platform", "served"]
