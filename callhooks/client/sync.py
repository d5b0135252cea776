"""``Client``: the calls API over a blocking ``httpx.Client``, for scripts."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any, ClassVar, TypeVar

import httpx
from typing_extensions import Unpack

from .base import ClientBase
from .handles import BoundCall, on_call
from .models import Call, CallLogEvent, Gather, Recording, Transcription
from .params import (
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
from .retry import Failure, Sleep, perform
from .wire import Operation, Page, Request, Response

__all__ = ["CallHandle", "Calls", "Client"]

T = TypeVar("T")


class Client(ClientBase[httpx.BaseTransport]):
    """Blocking client for the Catapult calls API of one user; see ``ClientBase`` for the arguments.

    One connection pool is kept until ``close()`` (or the end of a ``with`` block).
    """

    http: httpx.Client
    calls: Calls
    #: Whether call handles' methods are coroutines (what ``CallHooks.attach_client`` checks handlers against).
    asynchronous: ClassVar[bool] = False

    def _connect(self, transport: httpx.BaseTransport | None, options: dict[str, Any]) -> None:
        self.http = httpx.Client(transport=transport, **options)
        self.calls = Calls(self)

    def run(self, operation: Operation[T]) -> T:
        """Run a sans-I/O operation (from ``self.operations``), with retries."""
        steps = perform(operation, self.retry)
        outcome: Response | Failure | None = None
        while True:
            try:
                step = steps.send(outcome)
            except StopIteration as stop:
                result: T = stop.value
                return result
            if isinstance(step, Sleep):
                time.sleep(self._sleeping(step))
                outcome = None
            else:
                outcome = self._send(step.request)

    def _send(self, request: Request) -> Response | Failure:
        try:
            response = self.http.request(request.method, request.url, params=request.params, json=request.json)
        except httpx.TransportError as error:
            return self._failure(request, error)
        return self._response(request, response)

    def iterate(self, operation: Operation[Page[T]] | None) -> Iterator[T]:
        """The items of a page operation's page and of every page after it."""
        while operation is not None:
            page = self.run(operation)
            yield from page.items
            operation = page.next_operation()

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class Calls:
    """``client.calls``: the calls API. Control methods take the call id first; see ``bind``."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.operations = client.operations

    def bind(self, call_id: str) -> CallHandle:
        """A handle for one call: the control methods below without the ``call_id`` argument."""
        return CallHandle(self, call_id)

    def create(
        self, from_: str, to: str, *, context: Mapping[str, Any] | None = None, **options: Unpack[CreateCallOptions]
    ) -> Call:
        """Create an outbound call (never retried once sent). See ``CallOperations.create``."""
        return self.client.run(self.operations.create(from_, to, context=context, **options))

    def get(self, call_id: str) -> Call:
        """Read a call."""
        return self.client.run(self.operations.get(call_id))

    def list(self, **filters: Unpack[ListCallsFilters]) -> Iterator[Call]:
        """Every call matching ``filters``, following the ``Link rel="next"`` pages."""
        return self.client.iterate(self.operations.list_page(**filters))

    def list_page(self, **filters: Unpack[ListCallsFilters]) -> Page[Call]:
        """One page of calls; ``next_page`` fetches the one after it."""
        return self.client.run(self.operations.list_page(**filters))

    def next_page(self, page: Page[T]) -> Page[T] | None:
        """The page after ``page`` (of calls, events, ...), or ``None`` after the last."""
        operation = page.next_operation()
        return None if operation is None else self.client.run(operation)

    def answer(self, call_id: str) -> None:
        """Answer an incoming call."""
        return self.client.run(self.operations.answer(call_id))

    def reject(self, call_id: str) -> None:
        """Reject an incoming call."""
        return self.client.run(self.operations.reject(call_id))

    def hangup(self, call_id: str) -> None:
        """Hang up."""
        return self.client.run(self.operations.hangup(call_id))

    def update(self, call_id: str, **fields: Unpack[UpdateCallFields]) -> None:
        """Change state, tag, callback URL or recording settings."""
        return self.client.run(self.operations.update(call_id, **fields))

    def transfer(
        self,
        call_id: str,
        to: str,
        caller_id: str | None = None,
        whisper_audio: AudioOptions | None = None,
        callback_context: Mapping[str, Any] | None = None,
        **options: Unpack[TransferOptions],
    ) -> str:
        """Transfer to ``to``; returns the new leg's call id (never retried once sent)."""
        operation = self.operations.transfer(call_id, to, caller_id, whisper_audio, callback_context, **options)
        return self.client.run(operation)

    def speak(self, call_id: str, sentence: str, **options: Unpack[SpeakOptions]) -> None:
        """Speak a sentence."""
        return self.client.run(self.operations.speak(call_id, sentence, **options))

    def play(self, call_id: str, file_url: str, **options: Unpack[PlayOptions]) -> None:
        """Play an audio file."""
        return self.client.run(self.operations.play(call_id, file_url, **options))

    def stop_audio(self, call_id: str) -> None:
        """Stop the audio playing."""
        return self.client.run(self.operations.stop_audio(call_id))

    def send_dtmf(self, call_id: str, digits: str) -> None:
        """Send DTMF digits."""
        return self.client.run(self.operations.send_dtmf(call_id, digits))

    def gather(self, call_id: str, **options: Unpack[GatherOptions]) -> str:
        """Start a gather; returns its id."""
        return self.client.run(self.operations.gather(call_id, **options))

    def get_gather(self, call_id: str, gather_id: str) -> Gather:
        """Read a gather."""
        return self.client.run(self.operations.get_gather(call_id, gather_id))

    def stop_gather(self, call_id: str, gather_id: str) -> None:
        """Stop a gather."""
        return self.client.run(self.operations.stop_gather(call_id, gather_id))

    def start_recording(self, call_id: str, **options: Unpack[RecordingOptions]) -> None:
        """Start recording."""
        return self.client.run(self.operations.start_recording(call_id, **options))

    def stop_recording(self, call_id: str) -> None:
        """Stop recording."""
        return self.client.run(self.operations.stop_recording(call_id))

    def events(self, call_id: str) -> Iterator[CallLogEvent]:
        """The call's event log, every page."""
        return self.client.iterate(self.operations.events_page(call_id))

    def recordings(self, call_id: str) -> Iterator[Recording]:
        """The call's recordings, every page."""
        return self.client.iterate(self.operations.recordings_page(call_id))

    def transcriptions(self, call_id: str) -> Iterator[Transcription]:
        """The call's transcriptions, every page."""
        return self.client.iterate(self.operations.transcriptions_page(call_id))


class CallHandle(BoundCall[Calls]):
    """One call of a ``Client``: ``handle.speak("Hi")`` is ``client.calls.speak(handle.id, "Hi")``."""

    get = on_call(Calls.get)
    answer = on_call(Calls.answer)
    reject = on_call(Calls.reject)
    hangup = on_call(Calls.hangup)
    update = on_call(Calls.update)
    transfer = on_call(Calls.transfer)
    speak = on_call(Calls.speak)
    play = on_call(Calls.play)
    stop_audio = on_call(Calls.stop_audio)
    send_dtmf = on_call(Calls.send_dtmf)
    gather = on_call(Calls.gather)
    get_gather = on_call(Calls.get_gather)
    stop_gather = on_call(Calls.stop_gather)
    start_recording = on_call(Calls.start_recording)
    stop_recording = on_call(Calls.stop_recording)
    events = on_call(Calls.events)
    recordings = on_call(Calls.recordings)
    transcriptions = on_call(Calls.transcriptions)
