"""The name of :mod:`callhooks.receiver.inbound` in callhooks 0.1, kept so code written against it still imports."""

from .receiver.inbound import *  # noqa: F403
from .receiver.inbound import __all__ as __all__
