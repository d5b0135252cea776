"""The name of :mod:`callhooks.receiver.background` in callhooks 0.1, kept so code written against it still imports."""

from .receiver.background import *  # noqa: F403
from .receiver.background import __all__ as __all__
