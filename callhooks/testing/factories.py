"""Event factories with realistic defaults for users' tests (``answer_event(call_id="c-1", tag="menu")``).

They live in ``callhooks.event_factories`` (``callhooks send`` builds its events with them too); importable from
here as before.
"""

from ..event_factories import *  # noqa: F403
from ..event_factories import __all__ as __all__
