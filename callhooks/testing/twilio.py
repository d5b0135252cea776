"""Twilio request factories for users' tests (``gather_event(digits="1", tag="main-menu")``).

They live with the platform, in ``callhooks.twilio.factories``; importable from here beside the rest of the test
kit. Send one with :func:`callhooks.testing.send_event` to a ``CallHooks(platform="twilio")`` app: signed as
Twilio signs it, at a URL naming its kind and tag.
"""

from ..twilio.factories import *  # noqa: F403
from ..twilio.factories import __all__ as __all__
