"""Every Calls and Recordings operation of Twilio's 2010-04-01 API, written once, as sans-I/O operations.

Paths are ``{base_url}/Accounts/{AccountSid}/...json``; bodies are forms (``params.form_pairs``). Lists come in
an envelope (``{"calls": [...], "next_page_uri": ...}``) whose ``next_page_uri`` is followed, on the same
origin only. A request is retried once it may have reached Twilio only when sending it twice does no more
than once: reads, deletes, ending a call. Creating a call and redirecting one never are.

Paired with a receiver (``hooks=``), a new call's ``Url`` (unless ``Twiml`` or an application says what it
runs) and its ``StatusCallback`` default to the receiver's signed URL for that call, with every status event
and the receiver's method.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote, urljoin

from pydantic import BaseModel, ConfigDict
from typing_extensions import Unpack

from ...client.paired import PairedHooks, fill_callbacks
from ...client.wire import (
    Operation,
    Page,
    Request,
    Response,
    exchange,
    form,
    page,
    read_model,
    read_models,
    read_nothing,
)
from . import params
from .models import Call, Recording
from .params import CreateCallOptions, ListCallsFilters, ListRecordingsFilters, UpdateCallFields

__all__ = ["CallOperations", "RecordingOperations", "TwilioAccount"]

ALL_STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]


def _sid(name: str, value: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    # Sids are opaque; quoting keeps a stray '/' or '?' from changing which resource is addressed.
    return quote(value, safe="")


class _Envelope(BaseModel):
    """A list page: its items (under a key named after the resource) and the next page's URI."""

    model_config = ConfigDict(extra="allow")

    next_page_uri: str | None = None


def _next_page(request: Request, response: Response) -> str | None:
    """``next_page_uri`` (a path on the API host) as an absolute URL, or ``None`` on the last page."""
    uri = read_model(_Envelope)(request, response).next_page_uri
    return urljoin(request.url, uri) if uri else None


# The kind of request each URL a paired client fills receives (callhooks.twilio.receiving): a new call asks its URL
# for the TwiML it answers with, and reports its progress to its status callback.
_KINDS: Final = {"url": "answer", "status_callback": "status"}


class TwilioAccount:
    """The URLs of one account's resources, and the paired receiver (if any) that fills callback URLs."""

    def __init__(self, base_url: str, account_sid: str, hooks: PairedHooks | None = None) -> None:
        self.url = f"{base_url.rstrip('/')}/Accounts/{_sid('account_sid', account_sid)}"
        self.hooks = hooks

    def path(self, collection: str, sid: tuple[str, str] | None = None, *rest: str) -> str:
        """``/{collection}.json``, or ``/{collection}/{sid}{/rest...}.json``."""
        parts = [collection] if sid is None else [collection, _sid(*sid), *rest]
        return f"{self.url}/{'/'.join(parts)}.json"


class CallOperations:
    """Calls: create, fetch, list, update (redirect, end), delete the record of an ended call."""

    def __init__(self, account: TwilioAccount) -> None:
        self.account = account

    def _url(self, call_sid: str) -> str:
        return self.account.path("Calls", ("call_sid", call_sid))

    def create(
        self, to: str, from_: str, *, context: Mapping[str, Any] | None = None, **options: Unpack[CreateCallOptions]
    ) -> Operation[Call]:
        """Create an outbound call (201, ``status`` ``queued``); the result is Twilio's ``Call``.

        Exactly one of ``url``, ``twiml`` and ``application_sid`` is needed, unless the client is paired: then
        ``url`` and ``status_callback`` default to the receiver's signed URL carrying ``context`` (with all four
        status events and the receiver's method). Never retried once it may have reached Twilio.
        """
        values: dict[str, Any] = {"to": to, "from_": from_, **options}
        sources = [name for name in ("url", "twiml", "application_sid") if name in values]
        if len(sources) > 1:
            raise ValueError(f"give one of url, twiml and application_sid, not {' and '.join(sources)}")
        fields = [("status_callback", "status_callback_method")]
        if not sources:
            fields.insert(0, ("url", "method"))
        given_status = "status_callback" in values
        values, url = fill_callbacks(self.account.hooks, values, context, tuple(fields), _KINDS)
        if url is not None and not given_status:
            values.setdefault("status_callback_event", ALL_STATUS_EVENTS)
        if not any(name in values for name in ("url", "twiml", "application_sid")):
            raise ValueError("give url, twiml or application_sid (or build the client with hooks=)")
        body = form(params.form_pairs(params.CreateCall, values))
        return exchange(Request("POST", self.account.path("Calls"), **body), read_model(Call))

    def get(self, call_sid: str) -> Operation[Call]:
        """Fetch a call."""
        return exchange(Request("GET", self._url(call_sid), idempotent=True), read_model(Call))

    def list_page(self, **filters: Unpack[ListCallsFilters]) -> Operation[Page[Call]]:
        """Calls matching ``filters``, newest first, page by page (``next_page_uri``)."""
        query = dict(params.form_pairs(params.ListCallsFilters, filters))
        request = Request("GET", self.account.path("Calls"), params=query, idempotent=True)
        return page(request, read_models(Call, "calls"), _next_page)

    def update(
        self, call_sid: str, *, context: Mapping[str, Any] | None = None, **fields: Unpack[UpdateCallFields]
    ) -> Operation[Call]:
        """Change a live call: redirect it (``url`` or ``twiml``), end it (``status``), or its callbacks.

        With ``context`` (and a paired receiver) and no ``url``, the call is redirected to the receiver's signed
        URL carrying ``context``. Retried like a read only when it redirects nothing.
        """
        return self._update(call_sid, dict(fields), context, paired=context is not None)

    def redirect(
        self,
        call_sid: str,
        url: str | None = None,
        *,
        twiml: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Operation[Call]:
        """Run new TwiML on a live call: from ``url``, or ``twiml`` itself (paired and neither given: the
        receiver's signed URL carrying ``context``). Not retried once sent."""
        given = {name: value for name, value in (("url", url), ("twiml", twiml)) if value is not None}
        return self._update(call_sid, given, context, paired=not given or context is not None)

    def _update(
        self, call_sid: str, values: dict[str, Any], context: Mapping[str, Any] | None, *, paired: bool
    ) -> Operation[Call]:
        if "url" in values and "twiml" in values:
            raise ValueError("give url or twiml, not both")
        if paired:
            if "twiml" in values:
                raise ValueError("context travels in a URL: give it without twiml")
            values, _ = fill_callbacks(self.account.hooks, values, context, (("url", "method"),), {"url": "redirect"})
            if "url" not in values:
                raise ValueError("give url or twiml (or build the client with hooks=)")
        redirects = "url" in values or "twiml" in values
        body = form(params.form_pairs(params.UpdateCallFields, values))
        return exchange(Request("POST", self._url(call_sid), idempotent=not redirects, **body), read_model(Call))

    def hangup(self, call_sid: str) -> Operation[Call]:
        """End the call whatever its state (``Status=completed``)."""
        return self.update(call_sid, status="completed")

    def cancel(self, call_sid: str) -> Operation[Call]:
        """End a call that is still queued or ringing (``Status=canceled``); a call in progress goes on."""
        return self.update(call_sid, status="canceled")

    def delete(self, call_sid: str) -> Operation[None]:
        """Delete the record of an ended call."""
        return exchange(Request("DELETE", self._url(call_sid), idempotent=True), read_nothing)


class RecordingOperations:
    """Recordings: list (the account's or one call's), fetch, delete."""

    def __init__(self, account: TwilioAccount) -> None:
        self.account = account

    def list_page(self, **filters: Unpack[ListRecordingsFilters]) -> Operation[Page[Recording]]:
        """The account's recordings matching ``filters``, page by page."""
        query = dict(params.form_pairs(params.ListRecordingsFilters, filters))
        request = Request("GET", self.account.path("Recordings"), params=query, idempotent=True)
        return page(request, read_models(Recording, "recordings"), _next_page)

    def of_call_page(self, call_sid: str) -> Operation[Page[Recording]]:
        """One call's recordings, page by page."""
        request = Request("GET", self.account.path("Calls", ("call_sid", call_sid), "Recordings"), idempotent=True)
        return page(request, read_models(Recording, "recordings"), _next_page)

    def get(self, recording_sid: str) -> Operation[Recording]:
        """Fetch a recording's metadata."""
        url = self.account.path("Recordings", ("recording_sid", recording_sid))
        return exchange(Request("GET", url, idempotent=True), read_model(Recording))

    def delete(self, recording_sid: str) -> Operation[None]:
        """Delete a recording."""
        url = self.account.path("Recordings", ("recording_sid", recording_sid))
        return exchange(Request("DELETE", url, idempotent=True), read_nothing)
