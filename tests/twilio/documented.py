"""Twilio answers as its API reference gives them, and the requests' fixed parts.

Not a test module: the Twilio client tests import these.
"""

from __future__ import annotations

import base64
from typing import Any

ACCOUNT = "AC" + "0" * 31 + "1"
TOKEN = "auth-token-0123"
BASIC = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
API_KEY = "SK" + "f" * 32
API_SECRET = "api-secret-4567"
CALL = "CA" + "0" * 31 + "2"
RECORDING = "RE" + "0" * 31 + "3"
PREFIX = f"/2010-04-01/Accounts/{ACCOUNT}"
FORM = "application/x-www-form-urlencoded"
TWIML = "<Response><Say>Hello</Say></Response>"


def call_json(sid: str = CALL, **fields: Any) -> dict[str, Any]:
    """A Call resource as Twilio returns it (numbers as strings, RFC 2822 dates)."""
    return {
        "sid": sid,
        "account_sid": ACCOUNT,
        "parent_call_sid": None,
        "to": "+14155551212",
        "to_formatted": "(415) 555-1212",
        "from": "+15017122661",
        "from_formatted": "(501) 712-2661",
        "phone_number_sid": "PN" + "0" * 32,
        "status": "queued",
        "start_time": None,
        "end_time": None,
        "duration": None,
        "price": None,
        "price_unit": "USD",
        "direction": "outbound-api",
        "answered_by": None,
        "api_version": "2010-04-01",
        "forwarded_from": None,
        "group_sid": None,
        "caller_name": None,
        "queue_time": "1000",
        "trunk_sid": None,
        "date_created": "Tue, 31 Aug 2010 20:36:28 +0000",
        "date_updated": "Tue, 31 Aug 2010 20:36:44 +0000",
        "uri": f"{PREFIX}/Calls/{sid}.json",
        "subresource_uris": {"recordings": f"{PREFIX}/Calls/{sid}/Recordings.json"},
        **fields,
    }


def recording_json(sid: str = RECORDING, **fields: Any) -> dict[str, Any]:
    """A Recording resource as Twilio returns it."""
    return {
        "sid": sid,
        "account_sid": ACCOUNT,
        "call_sid": CALL,
        "conference_sid": None,
        "date_created": "Fri, 14 Oct 2016 21:56:34 +0000",
        "date_updated": "Fri, 14 Oct 2016 21:56:38 +0000",
        "start_time": "Fri, 14 Oct 2016 21:56:34 +0000",
        "duration": "4",
        "channels": 1,
        "source": "StartCallRecordingAPI",
        "status": "completed",
        "price": "-0.0025",
        "price_unit": "USD",
        "error_code": None,
        "track": "both",
        "uri": f"{PREFIX}/Recordings/{sid}.json",
        "media_url": f"https://api.twilio.com{PREFIX}/Recordings/{sid}",
        **fields,
    }


def envelope(key: str, items: list[dict[str, Any]], next_page_uri: str | None, page: int = 0) -> dict[str, Any]:
    """A list page: the records under ``key`` and the paging fields."""
    return {
        key: items,
        "end": page,
        "first_page_uri": f"{PREFIX}/Calls.json?PageSize=1&Page=0",
        "next_page_uri": next_page_uri,
        "page": page,
        "page_size": len(items),
        "previous_page_uri": None,
        "start": page,
        "uri": f"{PREFIX}/Calls.json?PageSize=1&Page={page}",
    }


def error(code: int, message: str, status: int) -> dict[str, Any]:
    """The 2010-04-01 error body."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
