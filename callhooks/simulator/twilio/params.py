"""Form parameters of the Calls API, read and checked as Twilio does; each failure a 400 in Twilio's shape.

Bodies are ``application/x-www-form-urlencoded`` (decoded as UTF-8; a repeated name keeps every value, as
``StatusCallbackEvent`` is sent). Names are Twilio's PascalCase; unknown names are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from ..callback_hosts import CallbackHosts
from ..models import Delivery
from . import errors
from .legs import ALL_STATUS_EVENTS, WEBHOOK_TIMEOUT_MS

__all__ = ["CreateCall", "Form", "UpdateCall"]

MAX_TWIML = 4000
_PARTY = re.compile(r"\+?[0-9]{2,15}|(client|sip|sim):\S+")
_METHODS = ("GET", "POST")


class Form:
    """The decoded parameters of a form body or a query string."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self.pairs = list(pairs)

    @classmethod
    def parse(cls, body: bytes) -> Form:
        """A form body; 400 when it is not UTF-8."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise errors.invalid("body", "The request body is not UTF-8") from None
        return cls(parse_qsl(text, keep_blank_values=True))

    def get(self, name: str) -> str | None:
        """The last value of ``name`` (``None`` when absent)."""
        values = self.all(name)
        return values[-1] if values else None

    def all(self, name: str) -> list[str]:
        """Every value of ``name``."""
        return [value for key, value in self.pairs if key == name]

    def method(self, name: str) -> str | None:
        """``GET`` or ``POST`` (any case)."""
        value = self.get(name)
        if value is None or value == "":
            return None
        if value.upper() not in _METHODS:
            raise errors.invalid(name, f"{name} must be GET or POST, not {value[:20]!r}")
        return value.upper()

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        """An integer within ``low``..``high``."""
        value = self.get(name)
        if value is None or value == "":
            return default
        if not re.fullmatch(r"\s*[0-9]+\s*", value) or not low <= int(value) <= high:
            raise errors.invalid(name, f"{name} must be a whole number from {low} to {high}, not {value[:20]!r}")
        return int(value)

    def boolean(self, name: str) -> bool:
        """``true``/``false`` (absent: false)."""
        value = (self.get(name) or "false").lower()
        if value not in ("true", "false"):
            raise errors.invalid(name, f"{name} must be true or false, not {value[:20]!r}")
        return value == "true"

    def url(self, name: str, hosts: CallbackHosts, code: int = errors.INVALID_PARAMETER) -> str | None:
        """An absolute http(s) URL on a host callbacks may go to."""
        value = self.get(name)
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise errors.invalid(name, f"{name} is not a valid URL: {value[:100]!r}", code)
        refusal = hosts.refusal(value)
        if refusal is not None:
            raise errors.invalid(name, f"{name} is refused: {refusal}", code)
        return value

    def events(self, name: str) -> frozenset[str] | None:
        """Status events, repeated or space-separated; each one of ``initiated ringing answered completed``."""
        given = [event for value in self.all(name) for event in value.split()]
        unknown = [event for event in given if event not in ALL_STATUS_EVENTS]
        if unknown:
            raise errors.invalid(name, f"{name} must be among {' '.join(ALL_STATUS_EVENTS)}, not {unknown[0][:20]!r}")
        return frozenset(given) if given else None

    def choice(self, name: str, choices: Sequence[str]) -> str | None:
        """One of ``choices``."""
        value = self.get(name)
        if value is None or value == "":
            return None
        if value not in choices:
            raise errors.invalid(name, f"{name} must be one of {', '.join(choices)}, not {value[:20]!r}")
        return value


def _party(form: Form, name: str, missing: int, bad: int) -> str:
    value = form.get(name)
    if not value:
        raise errors.invalid(name, f"No '{name}' number is specified", missing)
    if not _PARTY.fullmatch(value):
        raise errors.invalid(name, f"The '{name}' number {value[:40]} is not a valid phone number", bad)
    return value


def _twiml(form: Form) -> str | None:
    value = form.get("Twiml")
    if value is not None and len(value) > MAX_TWIML:
        raise errors.invalid("Twiml", f"Twiml must be at most {MAX_TWIML} characters, not {len(value)}")
    return value or None


def _status_callback(form: Form, hosts: CallbackHosts) -> tuple[Delivery | None, frozenset[str] | None]:
    url = form.url("StatusCallback", hosts)
    method = form.method("StatusCallbackMethod") or "POST"
    return (Delivery(url, method, WEBHOOK_TIMEOUT_MS) if url else None), form.events("StatusCallbackEvent")


def _voice(form: Form, hosts: CallbackHosts) -> Delivery | None:
    url = form.url("Url", hosts, 21205)
    fallback = form.url("FallbackUrl", hosts, 21205)
    if url is None:
        return None
    method, fallback_method = form.method("Method") or "POST", form.method("FallbackMethod") or "POST"
    return Delivery(url, method, WEBHOOK_TIMEOUT_MS, fallback, fallback_method=fallback_method)


@dataclass(frozen=True)
class CreateCall:
    """``POST /Calls.json``."""

    to: str
    from_: str
    voice: Delivery | None
    twiml: str | None
    status: Delivery | None
    events: frozenset[str]
    timeout: int
    record: bool
    recording_callback: Delivery | None
    machine_detection: str | None

    @classmethod
    def parse(cls, form: Form, hosts: CallbackHosts) -> CreateCall:
        """Check a create form: ``To``, ``From``, and ``Url`` or ``Twiml`` (``Url`` wins when both come)."""
        to = _party(form, "To", 21201, 21211)
        from_ = _party(form, "From", 21213, 21212)
        voice = _voice(form, hosts)
        twiml = None if voice is not None else _twiml(form)
        if voice is None and twiml is None:
            raise errors.invalid("Url", "Url or Twiml is required (ApplicationSid is not simulated)", 21205)
        status, events = _status_callback(form, hosts)
        recording_url = form.url("RecordingStatusCallback", hosts)
        recording_method = form.method("RecordingStatusCallbackMethod") or "POST"
        return cls(
            to=to,
            from_=from_,
            voice=voice,
            twiml=twiml,
            status=status,
            events=events or frozenset({"completed"}),
            timeout=form.integer("Timeout", 60, 1, 600),
            record=form.boolean("Record"),
            recording_callback=Delivery(recording_url, recording_method, WEBHOOK_TIMEOUT_MS) if recording_url else None,
            machine_detection=form.choice("MachineDetection", ("Enable", "DetectMessageEnd")),
        )


@dataclass(frozen=True)
class UpdateCall:
    """``POST /Calls/{Sid}.json``: a new ``Status``, new TwiML (``Url`` or ``Twiml``), new callbacks."""

    status: str | None
    voice: Delivery | None
    twiml: str | None
    status_callback: Delivery | None

    @classmethod
    def parse(cls, form: Form, hosts: CallbackHosts) -> UpdateCall:
        """Check an update form; ``Url`` and ``Twiml`` may not both come."""
        voice = _voice(form, hosts)
        twiml = _twiml(form)
        if voice is not None and twiml is not None:
            raise errors.invalid("Twiml", "Url and Twiml cannot be given together", 21205)
        status_callback, _ = _status_callback(form, hosts)
        return cls(
            status=form.choice("Status", ("canceled", "completed")),
            voice=voice,
            twiml=twiml,
            status_callback=status_callback,
        )
