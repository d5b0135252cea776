"""Every call and application API operation, written once, as a sans-I/O operation (see ``wire``).

``CallOperations`` checks parameters, builds requests and reads responses; ``Client`` and ``AsyncClient``
run what it returns. Parameters are checked when the operation is *built*, so a bad value raises before
anything is sent, even for lazily iterated lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from typing_extensions import Unpack

from . import params
from .models import Application, Call, CallLogEvent, Gather, PhoneNumber, Recording, Transcription
from .paired import PairedHooks, paired_url
from .params import (
    ApplicationFields,
    ApplicationOptions,
    AudioOptions,
    CreateCallOptions,
    GatherOptions,
    ListCallsFilters,
    PlayOptions,
    RecordingOptions,
    SpeakOptions,
    TransferOptions,
    UpdateCallFields,
)
from .wire import (
    Operation,
    Page,
    Request,
    Response,
    exchange,
    id_from_location,
    page,
    read_model,
    read_models,
    read_nothing,
)

__all__ = ["ApplicationOperations", "CallOperations", "PairedHooks"]


def _segment(name: str, value: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    # Ids are opaque; quoting keeps a stray '/' or '?' from changing which resource is addressed.
    return quote(value, safe="")


class CallOperations:
    """The calls API of one user, as operations. ``hooks`` (optional) fills in callback URLs."""

    def __init__(self, base_url: str, user_id: str, hooks: PairedHooks | None = None) -> None:
        self.calls_url = f"{base_url.rstrip('/')}/v1/users/{_segment('user_id', user_id)}/calls"
        self.hooks = hooks

    def _url(self, call_id: str, *rest: str) -> str:
        return "/".join((self.calls_url, _segment("call_id", call_id), *rest))

    def _post(self, call_id: str, body: Mapping[str, Any], *rest: str, idempotent: bool) -> Request:
        return Request("POST", self._url(call_id, *rest), json=body, idempotent=idempotent)

    def _callback_url(
        self, context: Mapping[str, Any] | None, options: Mapping[str, Any], context_name: str
    ) -> str | None:
        """The paired receiver's signed URL carrying ``context``; ``None`` when ``options`` has its own."""
        return paired_url(self.hooks, context, explicit="callback_url" in options, context_name=context_name)

    def _callback(
        self, context: Mapping[str, Any] | None, options: Mapping[str, Any], context_name: str
    ) -> dict[str, Any]:
        """``callback_url``/``callback_http_method`` from the paired receiver, unless given explicitly."""
        filled: dict[str, Any] = {}
        url = self._callback_url(context, options, context_name)
        if url is not None:
            filled["callback_url"] = url
        if self.hooks is not None and "callback_http_method" not in options:
            filled["callback_http_method"] = self.hooks.callback_http_method
        return filled

    def create(
        self,
        from_: str,
        to: str,
        *,
        context: Mapping[str, Any] | None = None,
        **options: Unpack[CreateCallOptions],
    ) -> Operation[Call]:
        """Create an outbound call; the result is a ``Call`` built from what was sent plus the new id.

        With a paired receiver and no ``callback_url``, the call's callbacks go to
        ``hooks.callback_url(context=context)`` with the receiver's method. The call is not read back with a
        GET: that would cost a second rate-limited request, and a failing GET would hide that the call was
        made. ``state`` and the times stay ``None``; use ``get`` for them.
        """
        values = {"from_": from_, "to": to, **self._callback(context, options, "context"), **options}
        body = params.create_call(values)

        def read(request: Request, response: Response) -> Call:
            return Call.model_validate({**body, "id": id_from_location(request, response), "direction": "out"})

        return exchange(Request("POST", self.calls_url, json=body), read)

    def get(self, call_id: str) -> Operation[Call]:
        """Read a call."""
        return exchange(Request("GET", self._url(call_id), idempotent=True), read_model(Call))

    def list_page(self, **filters: Unpack[ListCallsFilters]) -> Operation[Page[Call]]:
        """Calls matching ``filters``, newest first unless ``sort_order="asc"``, page by page."""
        request = Request("GET", self.calls_url, params=params.list_query(filters), idempotent=True)
        return page(request, read_models(Call))

    def update(
        self, call_id: str, *, context: Mapping[str, Any] | None = None, **fields: Unpack[UpdateCallFields]
    ) -> Operation[None]:
        """Change a call's state, tag, callback URL or recording settings.

        With ``context`` (and a paired receiver), the call's later callbacks go to
        ``hooks.callback_url(context=context)``: an inbound call starts at the number's callback URL, so this
        is how its handlers get a signed context. Setting fields to given values is idempotent, so this
        request is retried like a GET.
        """
        values: dict[str, Any] = dict(fields)
        if context is not None:
            values["callback_url"] = self._callback_url(context, fields, "context")
        body = params.wire_body(params.validate(UpdateCallFields, values))
        return exchange(self._post(call_id, body, idempotent=True), read_nothing)

    def answer(self, call_id: str) -> Operation[None]:
        """Answer an incoming call (state ``active``)."""
        return self.update(call_id, state="active")

    def reject(self, call_id: str) -> Operation[None]:
        """Reject an incoming call (state ``rejected``)."""
        return self.update(call_id, state="rejected")

    def hangup(self, call_id: str) -> Operation[None]:
        """Hang up (state ``completed``)."""
        return self.update(call_id, state="completed")

    def transfer(
        self,
        call_id: str,
        to: str,
        caller_id: str | None = None,
        whisper_audio: AudioOptions | None = None,
        callback_context: Mapping[str, Any] | None = None,
        **options: Unpack[TransferOptions],
    ) -> Operation[str]:
        """Transfer an active call to ``to``; the result is the id of the new call leg.

        The new leg's callbacks go to the paired receiver, carrying ``callback_context``, unless
        ``callback_url`` is given. Never retried once it may have reached the platform.
        """
        values = {
            "transfer_to": to,
            "transfer_caller_id": caller_id,
            "whisper_audio": whisper_audio,
            **self._callback(callback_context, options, "callback_context"),
            **options,
        }
        body = params.transfer({name: value for name, value in values.items() if value is not None})
        return exchange(self._post(call_id, body, idempotent=False), id_from_location)

    def speak(self, call_id: str, sentence: str, **options: Unpack[SpeakOptions]) -> Operation[None]:
        """Speak ``sentence`` (at most 1000 characters) on the call."""
        body = params.audio({"sentence": sentence, **options})
        return exchange(self._post(call_id, body, "audio", idempotent=False), read_nothing)

    def play(self, call_id: str, file_url: str, **options: Unpack[PlayOptions]) -> Operation[None]:
        """Play the audio file at ``file_url`` (wav or mp3) on the call."""
        body = params.audio({"file_url": file_url, **options})
        return exchange(self._post(call_id, body, "audio", idempotent=False), read_nothing)

    def stop_audio(self, call_id: str) -> Operation[None]:
        """Stop the sentence or file playing on the call (an empty ``fileUrl`` stops playback)."""
        return exchange(self._post(call_id, {"fileUrl": ""}, "audio", idempotent=True), read_nothing)

    def stop_speaking(self, call_id: str) -> Operation[None]:
        """Stop the sentence being spoken on the call with an empty ``sentence`` (the SDKs' ``stopSpeaking``)."""
        return exchange(self._post(call_id, {"sentence": ""}, "audio", idempotent=True), read_nothing)

    def send_dtmf(self, call_id: str, digits: str) -> Operation[None]:
        """Send DTMF ``digits`` (``0-9 A-D # *``, ``,``/``w`` pause 0.5 s, ``W`` 1 s; at most 92)."""
        return exchange(self._post(call_id, params.dtmf(digits), "dtmf", idempotent=False), read_nothing)

    def gather(self, call_id: str, **options: Unpack[GatherOptions]) -> Operation[str]:
        """Start collecting digits; the result is the gather id (its outcome arrives as a callback)."""
        body = params.gather(options)
        return exchange(self._post(call_id, body, "gather", idempotent=False), id_from_location)

    def get_gather(self, call_id: str, gather_id: str) -> Operation[Gather]:
        """Read a gather's state and digits."""
        url = self._url(call_id, "gather", _segment("gather_id", gather_id))
        return exchange(Request("GET", url, idempotent=True), read_model(Gather))

    def stop_gather(self, call_id: str, gather_id: str) -> Operation[None]:
        """Stop a running gather."""
        rest = ("gather", _segment("gather_id", gather_id))
        return exchange(self._post(call_id, {"state": "completed"}, *rest, idempotent=True), read_nothing)

    def start_recording(self, call_id: str, **options: Unpack[RecordingOptions]) -> Operation[None]:
        """Start recording the call."""
        return exchange(self._post(call_id, params.recording(options), idempotent=True), read_nothing)

    def stop_recording(self, call_id: str) -> Operation[None]:
        """Stop recording the call."""
        return self.update(call_id, recording_enabled=False)

    def events_page(self, call_id: str) -> Operation[Page[CallLogEvent]]:
        """A call's event log, page by page."""
        return page(Request("GET", self._url(call_id, "events"), idempotent=True), read_models(CallLogEvent))

    def get_event(self, call_id: str, event_id: str) -> Operation[CallLogEvent]:
        """Read one entry of a call's event log."""
        url = self._url(call_id, "events", _segment("event_id", event_id))
        return exchange(Request("GET", url, idempotent=True), read_model(CallLogEvent))

    def recordings_page(self, call_id: str) -> Operation[Page[Recording]]:
        """A call's recordings, page by page."""
        request = Request("GET", self._url(call_id, "recordings"), idempotent=True)
        return page(request, read_models(Recording))

    def transcriptions_page(self, call_id: str) -> Operation[Page[Transcription]]:
        """A call's transcriptions, page by page."""
        request = Request("GET", self._url(call_id, "transcriptions"), idempotent=True)
        return page(request, read_models(Transcription))


class ApplicationOperations:
    """The applications API of one user, as operations. ``hooks`` (optional) gives new applications their
    ``incomingCallUrl``: the receiver's non-expiring signed URL, with the receiver's callback method."""

    def __init__(self, base_url: str, user_id: str, hooks: PairedHooks | None = None) -> None:
        user_url = f"{base_url.rstrip('/')}/v1/users/{_segment('user_id', user_id)}"
        self.applications_url = f"{user_url}/applications"
        self.numbers_url = f"{user_url}/phoneNumbers"
        self.hooks = hooks

    def _url(self, application_id: str) -> str:
        return f"{self.applications_url}/{_segment('application_id', application_id)}"

    def create(self, name: str, **fields: Unpack[ApplicationOptions]) -> Operation[Application]:
        """Create an application; the result is an ``Application`` built from what was sent plus the new id.

        With a paired receiver, ``incoming_call_url`` defaults to ``hooks.callback_url(max_age=None)`` (an
        application's URL is static, so it must not expire: rotate the secret to revoke it) and
        ``callback_http_method`` to the receiver's. Never retried once it may have reached the platform.
        """
        values: dict[str, Any] = {"name": name}
        if self.hooks is not None:
            if "incoming_call_url" not in fields:
                values["incoming_call_url"] = self.hooks.callback_url(None, max_age=None)
            if "callback_http_method" not in fields:
                values["callback_http_method"] = self.hooks.callback_http_method
        body = params.application({**values, **fields})

        def read(request: Request, response: Response) -> Application:
            return Application.model_validate({**body, "id": id_from_location(request, response)})

        return exchange(Request("POST", self.applications_url, json=body), read)

    def get(self, application_id: str) -> Operation[Application]:
        """Read an application."""
        return exchange(Request("GET", self._url(application_id), idempotent=True), read_model(Application))

    def list_page(self) -> Operation[Page[Application]]:
        """The user's applications, page by page."""
        return page(Request("GET", self.applications_url, idempotent=True), read_models(Application))

    def update(self, application_id: str, **fields: Unpack[ApplicationFields]) -> Operation[None]:
        """Change an application's settings (setting given values is idempotent, so it is retried)."""
        body = params.application(fields)
        return exchange(Request("POST", self._url(application_id), json=body, idempotent=True), read_nothing)

    def delete(self, application_id: str) -> Operation[None]:
        """Delete an application (its numbers no longer take calls)."""
        return exchange(Request("DELETE", self._url(application_id), idempotent=True), read_nothing)

    def assign_number(self, application_id: str, number: str) -> Operation[PhoneNumber]:
        """Give the application ``number`` (``POST /phoneNumbers``): inbound calls to it go to the application's
        ``incoming_call_url``, with its method, timeout, fallback and ``auto_answer``."""
        body = params.phone_number({"number": number, "application_id": application_id})

        def read(request: Request, response: Response) -> PhoneNumber:
            return PhoneNumber.model_validate(body)

        # setting the same owner twice changes nothing, so it is retried
        return exchange(Request("POST", self.numbers_url, json=body, idempotent=True), read)

    def numbers_page(self) -> Operation[Page[PhoneNumber]]:
        """The account's numbers and the application of each, page by page."""
        return page(Request("GET", self.numbers_url, idempotent=True), read_models(PhoneNumber))
