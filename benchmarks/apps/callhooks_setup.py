"""What every platform's callhooks peer shares: configured from the environment as the driver sets it."""

from __future__ import annotations

import logging
import os
from typing import Any

from callhooks import CallHooks

__all__ = ["receiver"]


def receiver(**options: Any) -> CallHooks:
    """``CallHooks.from_env(**options)``: ``CALLHOOKS_SECRET`` (the driver signs its URLs with the same one) and
    ``CALLHOOKS_STORE``, the store of the guarantees (exactly once, per-call order, sessions), ``memory://`` unless
    the driver's ``--store`` says otherwise; ``none`` turns them off, to measure what they cost. Every request the
    driver sends is a distinct event (workload.LAP_MARK), so each one runs its handler once."""
    guarantees_off = os.environ.get("CALLHOOKS_STORE", "").strip() == "none"
    hooks = CallHooks.from_env(store=None, **options) if guarantees_off else CallHooks.from_env(**options)
    # The driver serves every peer with --log-level warning and no access log, and the other peers write no line
    # per request: so no per-callback INFO line here either (its level off, it costs one isEnabledFor check).
    logging.getLogger("callhooks").setLevel(logging.WARNING)
    if hooks.signer is None:
        raise RuntimeError("the benchmark measures callhooks with verification on: set CALLHOOKS_SECRET")
    return hooks
