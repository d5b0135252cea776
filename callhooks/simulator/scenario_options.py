"""The simulator options a scenario file may set, each checked and converted before ``Simulator`` sees it.

``check_options(options)`` returns the keyword arguments for :class:`~.simulator.Simulator`; a wrong name
(with its close match) or value is a ``ValueError`` naming the key: ``speeed: unknown option (did you mean
'speed'?)``, ``speed: must be a positive number or null, not 'fast'``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from .. import rules
from .faults import Faults
from .profile import PLATFORMS
from .ratelimit import RateLimit
from .settings import check_known, close_match, shown

__all__ = ["OPTIONS", "check_options"]

Check = Callable[[Any], Any]


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"must be a non-empty string, not {shown(value)}")
    return value


def _number(low: float, *, strict: bool = False, null: bool = False) -> Check:
    wanted = f"{'a positive number' if strict else 'a non-negative number'}{' or null' if null else ''}"

    def check(value: Any) -> float | None:
        if value is None and null:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"must be {wanted}, not {shown(value)}")
        if value < low or (strict and value == low):
            raise ValueError(f"must be {wanted}, not {shown(value)}")
        return float(value)

    return check


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be an integer, not {shown(value)}")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, not {shown(value)}")
    return value


def _method(value: Any) -> str:
    if not isinstance(value, str) or value.upper() not in rules.CALLBACK_HTTP_METHODS:
        hint = close_match(value.upper(), rules.CALLBACK_HTTP_METHODS) if isinstance(value, str) else ""
        raise ValueError(f"must be {' or '.join(rules.CALLBACK_HTTP_METHODS)}, not {shown(value)}{hint}")
    return value.upper()


def _timeout_ms(value: Any) -> int:
    return rules.CALLBACK_TIMEOUT.check(_integer(value))


def _moment(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(_text(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"must be an ISO-8601 time such as 2019-03-14T15:04:00Z, not {shown(value)}") from None


def _names(value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) and item for item in items):
        raise ValueError(f"must be a list of names, not {shown(value)}")
    return tuple(items)


def _rate_limit(value: Any) -> RateLimit:
    if not isinstance(value, Mapping):
        raise ValueError(f"must be a mapping of settings, not {shown(value)}")
    check_known(value, ("calls_per_second", "requests_per_second", "window"), "rate_limit setting")
    per_second = _number(0, strict=True, null=True)
    return RateLimit(
        calls_per_second=per_second(value.get("calls_per_second")),
        requests_per_second=per_second(value.get("requests_per_second")),
        window=_number(0, strict=True)(value.get("window", 10.0)),
    )


def _platform(value: Any) -> str:
    if value not in PLATFORMS:
        hint = close_match(value, PLATFORMS) if isinstance(value, str) else ""
        raise ValueError(f"must be one of {', '.join(PLATFORMS)}, not {shown(value)}{hint}")
    return str(value)


def _account(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ValueError(f"must be a mapping of account settings, not {shown(value)}")
    return {key: _text(item) for key, item in value.items()}


def _faults(value: Any) -> Faults:
    return Faults.from_mapping(value)


#: Every option of ``Simulator`` a file may set (``far_end`` and ``numbers`` come from ``default``/``numbers``).
OPTIONS: dict[str, Check] = {
    "platform": _platform,
    "account": _account,
    "user_id": _text,
    "api_token": _text,
    "api_secret": _text,
    "speed": _number(0, strict=True, null=True),
    "manual": _flag,
    "epoch": _moment,
    "base_url": _text,
    "rate_limit": _rate_limit,
    "incoming_call_url": _text,
    "incoming_call_method": _method,
    "incoming_call_fallback_url": _text,
    "incoming_call_timeout": _timeout_ms,
    "auto_answer": _flag,
    "application_id": _text,
    "seed": _integer,
    "hangup_after_timeout": _flag,
    "speech_chars_per_second": _number(0, strict=True),
    "playback_seconds": _number(0),
    "transcription_delay": _number(0),
    "faults": _faults,
    "bxml_idle_hangup": _number(0),
    "hold_clock": _flag,
    "allow_callback_hosts": _names,
    "allow_hosts": _names,
    "allow_origins": _names,
}


def check_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` (snake_case keys) checked and converted; ``ValueError`` naming the first bad key."""
    check_known(options, [*OPTIONS, "default", "numbers"], "option")
    checked: dict[str, Any] = {}
    for name, value in options.items():
        try:
            checked[name] = OPTIONS[name](value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name}: {exc}") from None
    return checked
