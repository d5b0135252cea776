"""``python -m callhooks``: the same command line as ``callhooks``."""

from .cli import main

raise SystemExit(main())
