"""The name of :mod:`callhooks.receiver.guarantees` in callhooks 0.1, kept so code written against it still imports."""

from .receiver.guarantees import *  # noqa: F403
from .receiver.guarantees import __all__ as __all__
