"""Sample Voice API v2 callbacks with realistic fields and fresh ids, for ``callhooks send --platform bandwidth``."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any, Final

__all__ = ["sample_fields"]

ACCOUNT_ID: Final = "9900000"
APPLICATION_ID: Final = "04e88489-df02-4e34-a0ee-27a91849555f"
CUSTOMER_NUMBER: Final = "+19195551212"
APP_NUMBER: Final = "+19195550100"


def sample_fields(event_type: str) -> dict[str, Any]:
    """A v2 callback body of ``event_type`` as the platform posts it: an inbound call's fields (a conference's for
    ``conference*`` events), stamped now. The caller sets or overrides any field afterwards."""
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    fields: dict[str, Any] = {"eventType": event_type, "eventTime": now}
    if event_type.startswith("conference"):
        conference_id = f"conf-{uuid.uuid4()}"
        # Of a conference's callbacks only the recording's names the account (the others carry no accountId).
        account = {"accountId": ACCOUNT_ID} if event_type == "conferenceRecordingAvailable" else {}
        return {**fields, **account, "conferenceId": conference_id, "name": "sample-conference"}
    call_id = f"c-{uuid.uuid4()}"
    return {
        **fields,
        "accountId": ACCOUNT_ID,
        "applicationId": APPLICATION_ID,
        "from": CUSTOMER_NUMBER,
        "to": APP_NUMBER,
        "direction": "inbound",
        "callId": call_id,
        "callUrl": f"https://voice.bandwidth.com/api/v2/accounts/{ACCOUNT_ID}/calls/{call_id}",
        "startTime": now,
    }
