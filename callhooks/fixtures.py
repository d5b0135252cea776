"""The call fixture format under its first name: it lives in ``callhooks.replay_file`` (a recorded call's
callbacks, read, written and planned for replay, no I/O), and every name is importable from here as before."""

from .replay_file import *  # noqa: F403
from .replay_file import __all__ as __all__
