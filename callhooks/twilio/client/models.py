"""Typed views of what Twilio's 2010-04-01 API returns: calls and recordings.

The JSON is snake_case already (``from`` is ``from_``). Numbers come as strings (``"duration": "15"``) and
dates in RFC 2822 (``Tue, 31 Aug 2010 20:36:28 +0000``): both are read leniently, an unreadable value
becomes ``None``. Unknown fields are kept (``model_extra``).
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ...client.models import Number

__all__ = ["Call", "Recording", "Rfc2822"]


def _rfc2822(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None


Rfc2822 = Annotated[datetime | None, BeforeValidator(_rfc2822)]


class _Resource(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow")


class Call(_Resource):
    """A call (``/Calls/{CallSid}.json``); ``status`` is ``queued``, ``ringing``, ``in-progress``, ``completed``,
    ``busy``, ``failed``, ``no-answer`` or ``canceled``."""

    sid: str
    account_sid: str | None = None
    parent_call_sid: str | None = None
    to: str | None = None
    to_formatted: str | None = None
    from_: str | None = Field(default=None, alias="from")
    from_formatted: str | None = None
    phone_number_sid: str | None = None
    status: str | None = None
    direction: str | None = None
    date_created: Rfc2822 = None
    date_updated: Rfc2822 = None
    start_time: Rfc2822 = None
    end_time: Rfc2822 = None
    duration: Number = None
    price: str | None = None
    price_unit: str | None = None
    answered_by: str | None = None
    api_version: str | None = None
    forwarded_from: str | None = None
    group_sid: str | None = None
    caller_name: str | None = None
    queue_time: Number = None
    trunk_sid: str | None = None
    uri: str | None = None
    subresource_uris: dict[str, Any] | None = None


class Recording(_Resource):
    """A recording (``/Recordings/{Sid}.json``); ``duration`` in seconds, ``-1`` while it is in progress."""

    sid: str
    account_sid: str | None = None
    call_sid: str | None = None
    conference_sid: str | None = None
    date_created: Rfc2822 = None
    date_updated: Rfc2822 = None
    start_time: Rfc2822 = None
    duration: Number = None
    channels: Number = None
    source: str | None = None
    status: str | None = None
    track: str | None = None
    price: str | None = None
    price_unit: str | None = None
    error_code: Number = None
    media_url: str | None = None
    uri: str | None = None
