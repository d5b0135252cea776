"""Field-for-field comparison of a v2 callback body with what ``bandwidth-sdk``'s callback model read from it: the
SDK types times and enums, the body carries text; both sides are brought to JSON's values first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

#: Fields the platform's documentation shows that the SDK's model lacks (kept in ``additional_properties``).
DOCUMENTED_EXTRAS = {"transferAnswer": {"parentCallId"}}


def read_value(value: Any) -> Any:
    """A model's value as JSON would carry it: datetimes as instants, enums as their values."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {key: read_value(item) for key, item in value.items()}
    return sent_value(getattr(value, "value", value))


def sent_value(value: Any) -> Any:
    """A body's value, with ISO-8601 ``...Z`` times as instants."""
    if isinstance(value, str) and len(value) > 19 and value[10] == "T" and value.endswith("Z"):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    if isinstance(value, dict):
        return {key: sent_value(item) for key, item in value.items()}
    return value


def assert_read_alike(model_class: Any, body: dict[str, Any]) -> None:
    """``model_class.from_dict(body)`` keeps no field it does not know (but the documented ones it lacks) and
    reads every field of ``body`` with the same value."""
    event_type = body["eventType"]
    model = model_class.from_dict(body)
    read = model.to_dict()
    extras = set(model.additional_properties) - DOCUMENTED_EXTRAS.get(event_type, set())
    assert not extras, (event_type, extras)
    for key, value in body.items():
        assert read_value(read.get(key)) == sent_value(value), (event_type, key, read.get(key), value)
