"""Sample Twilio voice requests with realistic parameters and fresh sids, for ``callhooks send --platform twilio``."""

from __future__ import annotations

import secrets
from typing import Final

__all__ = ["sample_params"]

CUSTOMER_NUMBER: Final = "+19195551212"
APP_NUMBER: Final = "+19195550100"


def sample_params(kind: str) -> dict[str, str]:
    """The parameters every voice request of an inbound call carries (the ``kind`` its URL names is not among
    them: it travels in the URL): ringing for the Voice URL's ``call``, in progress otherwise. The caller sets or
    overrides any parameter afterwards."""
    return {
        "AccountSid": "AC" + secrets.token_hex(16),
        "ApiVersion": "2010-04-01",
        "CallSid": "CA" + secrets.token_hex(16),
        "CallStatus": "ringing" if kind == "call" else "in-progress",
        "Direction": "inbound",
        "From": CUSTOMER_NUMBER,
        "To": APP_NUMBER,
        "Caller": CUSTOMER_NUMBER,
        "Called": APP_NUMBER,
    }
