"""Bandwidth Voice API v2 event factories for users' tests (``gather_event(digits="1", tag="main-menu")``).

They live with the platform, in ``callhooks.bandwidth.factories``; importable from here beside the rest of the
test kit. Send one with :func:`callhooks.testing.send_event` to a ``CallHooks(platform="bandwidth")`` app.
"""

from ..bandwidth.factories import *  # noqa: F403
from ..bandwidth.factories import __all__ as __all__
