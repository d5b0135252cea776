"""Every Voice API v2 operation, written once, as a sans-I/O operation (``callhooks.client.wire``).

The classes check parameters and build requests (paths under ``{base_url}/accounts/{accountId}``) and read
answers; ``Client`` and ``AsyncClient`` run them with the shared retry rules. A request is marked idempotent
(retried once it may have reached the platform) only when sending it twice does no more than once: reads,
deletes, hanging up, pausing a recording, changing a member. Creating a call, redirecting and replacing BXML
are never retried once they may have been sent.

Paired with a receiver (``hooks=``), every callback URL field left out is filled with the receiver's signed
URL for that one call (``callhooks.client.paired``), with the receiver's HTTP method.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel
from typing_extensions import Unpack

from ...client.paired import PairedHooks, fill_callbacks
from ...client.wire import (
    Operation,
    Page,
    Request,
    Response,
    exchange,
    link_next_url,
    page,
    read_bytes,
    read_model,
    read_models,
    read_nothing,
)
from . import params
from .models import (
    CallState,
    Conference,
    ConferenceMember,
    ConferenceRecording,
    CreatedCall,
    RealTimeTranscription,
    Recording,
    RecordingTranscriptions,
    TranscriptionMetadata,
)
from .params import (
    CreateCallOptions,
    ListCallsFilters,
    ListConferencesFilters,
    ListRecordingsFilters,
    RedirectOptions,
    TranscribeOptions,
    UpdateConferenceMemberFields,
)

__all__ = ["Account", "CallOperations", "ConferenceOperations", "RecordingOperations", "TranscriptionOperations"]

M = TypeVar("M", bound=BaseModel)
XML = {"Content-Type": "application/xml; charset=utf-8"}


def _segment(name: str, value: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    # Ids are opaque; quoting keeps a stray '/' or '?' from changing which resource is addressed.
    return quote(value, safe="")


def _read_one(model: type[M]) -> Callable[[Request, Response], M]:
    """``model`` from an object body, or from a one-element array (GET call/recording sometimes sends one)."""
    read_list = read_models(model)
    read_object = read_model(model)

    def read(request: Request, response: Response) -> M:
        if response.body.lstrip().startswith(b"["):
            items = read_list(request, response)
            if len(items) == 1:
                return items[0]
        return read_object(request, response)

    return read


def _read_list(model: type[M]) -> Callable[[Request, Response], list[M]]:
    """A JSON array of ``model``; ``null`` (sent for a call without recordings) is an empty list."""
    read = read_models(model)
    return lambda request, response: [] if response.body.strip() == b"null" else read(request, response)


class Account:
    """The URLs of one account's Voice API, and the paired receiver (if any) that fills callback URLs."""

    def __init__(self, base_url: str, account_id: str, hooks: PairedHooks | None = None) -> None:
        self.url = f"{base_url.rstrip('/')}/accounts/{_segment('account_id', account_id)}"
        self.hooks = hooks

    def path(self, *parts: tuple[str, str] | str) -> str:
        """The account URL plus ``parts``: literal segments, or ``(name, id)`` pairs checked and quoted."""
        segments = [part if isinstance(part, str) else _segment(*part) for part in parts]
        return "/".join((self.url, *segments))

    def fill(
        self,
        values: Mapping[str, Any],
        context: Mapping[str, Any] | None,
        fields: tuple[tuple[str, str], ...],
        *,
        credentials: bool = False,
    ) -> tuple[dict[str, Any], str | None]:
        """``fill_callbacks`` with this account's receiver. ``credentials``: the operation's ``username`` and
        ``password`` cover those URLs; when the receiver filled them all, they are its Basic credentials
        (``CallHooks.callback_credentials``), which v2 takes there rather than in the URL."""
        filled, url = fill_callbacks(self.hooks, values, context, fields)
        pair = getattr(self.hooks, "callback_credentials", None)
        if credentials and url is not None and pair and not any(name in values for name, _ in fields):
            filled.setdefault("username", pair[0])
            filled.setdefault("password", pair[1])
        return filled, url


class CallOperations:
    """Calls: create, read, list, redirect, hang up, replace BXML, pause or resume recording."""

    def __init__(self, account: Account) -> None:
        self.account = account

    def _url(self, call_id: str, *rest: str) -> str:
        return self.account.path("calls", ("call_id", call_id), *rest)

    def create(
        self,
        from_: str,
        to: str,
        application_id: str,
        *,
        context: Mapping[str, Any] | None = None,
        **options: Unpack[CreateCallOptions],
    ) -> Operation[CreatedCall]:
        """Create an outbound call; the result is the platform's ``CreateCallResponse`` (with the ``call_id``).

        With a paired receiver, ``answer_url`` and ``disconnect_url`` (and ``machine_detection``'s
        ``callback_url``) default to the receiver's signed URL carrying ``context``, with its method. Never
        retried once it may have reached the platform: a second phone call is worse than an error.
        """
        values: dict[str, Any] = {"from_": from_, "to": to, "application_id": application_id, **options}
        fields = (("answer_url", "answer_method"), ("disconnect_url", "disconnect_method"))
        values, url = self.account.fill(values, context, fields, credentials=True)
        if "answer_url" not in values:
            raise ValueError("answer_url is required (or build the client with hooks= to call back to the receiver)")
        detection = options.get("machine_detection")
        if url is not None and self.account.hooks is not None and detection and "callback_url" not in detection:
            # The async detection result goes where the call's other callbacks go.
            method = self.account.hooks.callback_http_method
            values["machine_detection"] = {"callback_url": url, "callback_method": method, **detection}
        body = params.body(params.CreateCall, values)
        return exchange(Request("POST", self.account.path("calls"), json=body), read_model(CreatedCall))

    def get(self, call_id: str) -> Operation[CallState]:
        """Read a call's state (a new call may take a few minutes to be readable; kept 7 days after it ends)."""
        return exchange(Request("GET", self._url(call_id), idempotent=True), _read_one(CallState))

    def list_page(self, **filters: Unpack[ListCallsFilters]) -> Operation[Page[CallState]]:
        """Calls matching ``filters``, oldest first, page by page (``Link rel="next"``)."""
        query = params.query(params.ListCallsFilters, filters)
        request = Request("GET", self.account.path("calls"), params=query, idempotent=True)
        return page(request, _read_list(CallState), link_next_url)

    def redirect(
        self,
        call_id: str,
        redirect_url: str | None = None,
        *,
        context: Mapping[str, Any] | None = None,
        tag: str | None = None,
        **options: Unpack[RedirectOptions],
    ) -> Operation[None]:
        """Stop what the call is doing and fetch new BXML from ``redirect_url`` (a ``redirect`` callback).

        With a paired receiver and no ``redirect_url``, the receiver's signed URL carrying ``context``.
        Not retried once sent: a second redirect would restart the new document.
        """
        values: dict[str, Any] = {"state": "active", **options}
        if redirect_url is not None:
            values["redirect_url"] = redirect_url
        if tag is not None:
            values["tag"] = tag
        values, _ = self.account.fill(values, context, (("redirect_url", "redirect_method"),), credentials=True)
        body = params.body(params.UpdateCall, values)
        return exchange(Request("POST", self._url(call_id), json=body), read_nothing)

    def hangup(self, call_id: str) -> Operation[None]:
        """End the call: hang up if answered, cancel if still ringing or queued, reject if inbound and unanswered."""
        body = params.body(params.UpdateCall, {"state": "completed"})
        return exchange(Request("POST", self._url(call_id), json=body, idempotent=True), read_nothing)

    def set_tag(self, call_id: str, tag: str) -> Operation[None]:
        """Set (or with ``""`` clear) the tag sent with the call's later callbacks, without redirecting it."""
        body = params.body(params.UpdateCall, {"tag": tag})
        return exchange(Request("POST", self._url(call_id), json=body, idempotent=True), read_nothing)

    def replace_bxml(self, call_id: str, bxml: str) -> Operation[None]:
        """Interrupt the call's BXML with ``bxml``, a whole document whose root is ``<Bxml>``."""
        request = Request("PUT", self._url(call_id, "bxml"), content=bxml.encode(), headers=XML)
        return exchange(request, read_nothing)

    def pause_recording(self, call_id: str) -> Operation[None]:
        """Pause the recording started with ``<StartRecording>``."""
        body = params.body(params.RecordingState, {"state": "paused"})
        return exchange(Request("PUT", self._url(call_id, "recording"), json=body, idempotent=True), read_nothing)

    def resume_recording(self, call_id: str) -> Operation[None]:
        """Resume a paused recording."""
        body = params.body(params.RecordingState, {"state": "recording"})
        return exchange(Request("PUT", self._url(call_id, "recording"), json=body, idempotent=True), read_nothing)


class RecordingOperations:
    """Recordings of calls: list, read, download, delete, and their transcriptions."""

    def __init__(self, account: Account) -> None:
        self.account = account

    def _url(self, call_id: str, recording_id: str, *rest: str) -> str:
        return self.account.path("calls", ("call_id", call_id), "recordings", ("recording_id", recording_id), *rest)

    def list_page(self, **filters: Unpack[ListRecordingsFilters]) -> Operation[Page[Recording]]:
        """The account's recordings matching ``filters`` (at most 1000)."""
        query = params.query(params.ListRecordingsFilters, filters)
        request = Request("GET", self.account.path("recordings"), params=query, idempotent=True)
        return page(request, _read_list(Recording), link_next_url)

    def of_call_page(self, call_id: str) -> Operation[Page[Recording]]:
        """A call's recordings (none is an empty list)."""
        request = Request("GET", self.account.path("calls", ("call_id", call_id), "recordings"), idempotent=True)
        return page(request, _read_list(Recording), link_next_url)

    def get(self, call_id: str, recording_id: str) -> Operation[Recording]:
        """Read one recording's metadata."""
        return exchange(Request("GET", self._url(call_id, recording_id), idempotent=True), _read_one(Recording))

    def download(self, call_id: str, recording_id: str) -> Operation[bytes]:
        """The recording's media (wav or mp3), as bytes."""
        return exchange(Request("GET", self._url(call_id, recording_id, "media"), idempotent=True), read_bytes)

    def delete(self, call_id: str, recording_id: str) -> Operation[None]:
        """Delete the recording: its metadata, media and transcription."""
        return exchange(Request("DELETE", self._url(call_id, recording_id), idempotent=True), read_nothing)

    def delete_media(self, call_id: str, recording_id: str) -> Operation[None]:
        """Delete the recording's media only."""
        request = Request("DELETE", self._url(call_id, recording_id, "media"), idempotent=True)
        return exchange(request, read_nothing)

    def transcribe(
        self,
        call_id: str,
        recording_id: str,
        *,
        context: Mapping[str, Any] | None = None,
        **options: Unpack[TranscribeOptions],
    ) -> Operation[None]:
        """Ask for the recording's transcription; ``transcriptionAvailable`` goes to ``callback_url`` (with a
        paired receiver and none given: the receiver's signed URL carrying ``context``)."""
        values, _ = self.account.fill(options, context, (("callback_url", "callback_method"),))
        body = params.body(params.TranscribeOptions, values)
        return exchange(Request("POST", self._url(call_id, recording_id, "transcription"), json=body), read_nothing)

    def get_transcription(self, call_id: str, recording_id: str) -> Operation[RecordingTranscriptions]:
        """The recording's transcription (one transcript per channel)."""
        request = Request("GET", self._url(call_id, recording_id, "transcription"), idempotent=True)
        return exchange(request, read_model(RecordingTranscriptions))

    def delete_transcription(self, call_id: str, recording_id: str) -> Operation[None]:
        """Delete the recording's transcription."""
        request = Request("DELETE", self._url(call_id, recording_id, "transcription"), idempotent=True)
        return exchange(request, read_nothing)


class TranscriptionOperations:
    """Real-time transcriptions of calls (started with ``<StartTranscription>``)."""

    def __init__(self, account: Account) -> None:
        self.account = account

    def _url(self, call_id: str, *rest: tuple[str, str]) -> str:
        return self.account.path("calls", ("call_id", call_id), "transcriptions", *rest)

    def list_page(self, call_id: str) -> Operation[Page[TranscriptionMetadata]]:
        """A call's real-time transcriptions."""
        request = Request("GET", self._url(call_id), idempotent=True)
        return page(request, _read_list(TranscriptionMetadata), link_next_url)

    def get(self, call_id: str, transcription_id: str) -> Operation[RealTimeTranscription]:
        """One real-time transcription's text, per track."""
        request = Request("GET", self._url(call_id, ("transcription_id", transcription_id)), idempotent=True)
        return exchange(request, read_model(RealTimeTranscription))

    def delete(self, call_id: str, transcription_id: str) -> Operation[None]:
        """Delete a real-time transcription."""
        request = Request("DELETE", self._url(call_id, ("transcription_id", transcription_id)), idempotent=True)
        return exchange(request, read_nothing)


class ConferenceOperations:
    """Conferences (made by ``<Conference>``): read, redirect, end, replace BXML, members, recordings."""

    def __init__(self, account: Account) -> None:
        self.account = account

    def _url(self, conference_id: str, *rest: tuple[str, str] | str) -> str:
        return self.account.path("conferences", ("conference_id", conference_id), *rest)

    def list_page(self, **filters: Unpack[ListConferencesFilters]) -> Operation[Page[Conference]]:
        """Conferences matching ``filters``, page by page (without their members)."""
        query = params.query(params.ListConferencesFilters, filters)
        request = Request("GET", self.account.path("conferences"), params=query, idempotent=True)
        return page(request, _read_list(Conference), link_next_url)

    def get(self, conference_id: str) -> Operation[Conference]:
        """Read a conference, with its active members."""
        return exchange(Request("GET", self._url(conference_id), idempotent=True), read_model(Conference))

    def redirect(
        self,
        conference_id: str,
        redirect_url: str | None = None,
        *,
        context: Mapping[str, Any] | None = None,
        **options: Unpack[RedirectOptions],
    ) -> Operation[None]:
        """Fetch new conference BXML from ``redirect_url`` (a ``conferenceRedirect`` callback; paired and none
        given: the receiver's signed URL carrying ``context``). Not retried once sent."""
        values: dict[str, Any] = {"status": "active", **options}
        if redirect_url is not None:
            values["redirect_url"] = redirect_url
        values, _ = self.account.fill(values, context, (("redirect_url", "redirect_method"),), credentials=True)
        body = params.body(params.UpdateConference, values)
        return exchange(Request("POST", self._url(conference_id), json=body), read_nothing)

    def end(self, conference_id: str) -> Operation[None]:
        """End the conference; its members continue with the verb after their ``<Conference>``."""
        body = params.body(params.UpdateConference, {"status": "completed"})
        return exchange(Request("POST", self._url(conference_id), json=body, idempotent=True), read_nothing)

    def replace_bxml(self, conference_id: str, bxml: str) -> Operation[None]:
        """Run ``bxml`` (root ``<Bxml>``, conference verbs only) on the conference."""
        request = Request("PUT", self._url(conference_id, "bxml"), content=bxml.encode(), headers=XML)
        return exchange(request, read_nothing)

    def get_member(self, conference_id: str, member_id: str) -> Operation[ConferenceMember]:
        """Read a member (``member_id`` is the member's call id)."""
        request = Request("GET", self._url(conference_id, "members", ("member_id", member_id)), idempotent=True)
        return exchange(request, read_model(ConferenceMember))

    def update_member(
        self, conference_id: str, member_id: str, **fields: Unpack[UpdateConferenceMemberFields]
    ) -> Operation[None]:
        """Mute, hold or set whom a member coaches; only the given fields change."""
        body = params.body(params.UpdateConferenceMemberFields, fields)
        url = self._url(conference_id, "members", ("member_id", member_id))
        return exchange(Request("PUT", url, json=body, idempotent=True), read_nothing)

    def recordings_page(self, conference_id: str) -> Operation[Page[ConferenceRecording]]:
        """The conference's recordings."""
        request = Request("GET", self._url(conference_id, "recordings"), idempotent=True)
        return page(request, _read_list(ConferenceRecording), link_next_url)

    def get_recording(self, conference_id: str, recording_id: str) -> Operation[ConferenceRecording]:
        """Read one of the conference's recordings."""
        url = self._url(conference_id, "recordings", ("recording_id", recording_id))
        return exchange(Request("GET", url, idempotent=True), _read_one(ConferenceRecording))

    def download_recording(self, conference_id: str, recording_id: str) -> Operation[bytes]:
        """The conference recording's media, as bytes."""
        url = self._url(conference_id, "recordings", ("recording_id", recording_id), "media")
        return exchange(Request("GET", url, idempotent=True), read_bytes)
