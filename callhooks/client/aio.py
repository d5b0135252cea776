"""``AsyncClient``: the calls API over an ``httpx.AsyncClient``, for receivers and async code."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import Any, ClassVar, TypeVar

import anyio
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

__all__ = ["AsyncCallHandle", "AsyncCalls", "AsyncClient"]

T = TypeVar("T")


class AsyncClient(ClientBase[httpx.AsyncBaseTransport]):
    """Async client for the Catapult calls API of one user: ``Client``'s API, awaited.

    See ``ClientBase`` for the arguments. One connection pool is kept until ``await close()`` (or the end of
    an ``async with`` block).
    """

    http: httpx.AsyncClient
    calls: AsyncCalls
    #: Whether call handles' methods are coroutines (what ``CallHooks.attach_client`` checks handlers against).
    asynchronous: ClassVar[bool] = True

    def _connect(self, transport: httpx.AsyncBaseTransport | None, options: dict[str, Any]) -> None:
        self.http = httpx.AsyncClient(transport=transport, **options)
        self.calls = AsyncCalls(self)

    async def run(self, operation: Operation[T]) -> T:
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
                await anyio.sleep(self._sleeping(step))
                outcome = None
            else:
                outcome = await self._send(step.request)

    async def _send(self, request: Request) -> Response | Failure:
        try:
            response = await self.http.request(request.method, request.url, params=request.params, json=request.json)
        except httpx.TransportError as error:
            return self._failure(request, error)
        return self._response(request, response)

    async def iterate(self, operation: Operation[Page[T]] | None) -> AsyncIterator[T]:
        """The items of a page operation's page and of every page after it."""
        while operation is not None:
            page = await self.run(operation)
            for item in page.items:
                yield item
            operation = page.next_operation()

    async def close(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()


class AsyncCalls:
    """``client.calls`` of an ``AsyncClient``: the calls API, awaited. Control methods take the call id first."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.operations = client.operations

    def bind(self, call_id: str) -> AsyncCallHandle:
        """A handle for one call: the control methods below without the ``call_id`` argument."""
        return AsyncCallHandle(self, call_id)

    async def create(
        self, from_: str, to: str, *, context: Mapping[str, Any] | None = None, **options: Unpack[CreateCallOptions]
    ) -> Call:
        """Create an outbound call (never retried once sent). See ``CallOperations.create``."""
        return await self.client.run(self.operations.create(from_, to, context=context, **options))

    async def get(self, call_id: str) -> Call:
        """Read a call."""
        return await self.client.run(self.operations.get(call_id))

    def list(self, **filters: Unpack[ListCallsFilters]) -> AsyncIterator[Call]:
        """Every call matching ``filters``, following the ``Link rel="next"`` pages."""
        return self.client.iterate(self.operations.list_page(**filters))

    async def list_page(self, **filters: Unpack[ListCallsFilters]) -> Page[Call]:
        """One page of calls; ``next_page`` fetches the one after it."""
        return await self.client.run(self.operations.list_page(**filters))

    async def next_page(self, page: Page[T]) -> Page[T] | None:
        """The page after ``page`` (of calls, events, ...), or ``None`` after the last."""
        operation = page.next_operation()
        return None if operation is None else await self.client.run(operation)

    async def answer(self, call_id: str) -> None:
        """Answer an incoming call."""
        return await self.client.run(self.operations.answer(call_id))

    async def reject(self, call_id: str) -> None:
        """Reject an incoming call."""
        return await self.client.run(self.operations.reject(call_id))

    async def hangup(self, call_id: str) -> None:
        """Hang up."""
        return await self.client.run(self.operations.hangup(call_id))

    async def update(self, call_id: str, **fields: Unpack[UpdateCallFields]) -> None:
        """Change state, tag, callback URL or recording settings."""
        return await self.client.run(self.operations.update(call_id, **fields))

    async def transfer(
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
        return await self.client.run(operation)

    async def speak(self, call_id: str, sentence: str, **options: Unpack[SpeakOptions]) -> None:
        """Speak a sentence."""
        return await self.client.run(self.operations.speak(call_id, sentence, **options))

    async def play(self, call_id: str, file_url: str, **options: Unpack[PlayOptions]) -> None:
        """Play an audio file."""
        return await self.client.run(self.operations.play(call_id, file_url, **options))

    async def stop_audio(self, call_id: str) -> None:
        """Stop the audio playing."""
        return await self.client.run(self.operations.stop_audio(call_id))

    async def send_dtmf(self, call_id: str, digits: str) -> None:
        """Send DTMF digits."""
        return await self.client.run(self.operations.send_dtmf(call_id, digits))

    async def gather(self, call_id: str, **options: Unpack[GatherOptions]) -> str:
        """Start a gather; returns its id."""
        return await self.client.run(self.operations.gather(call_id, **options))

    async def get_gather(self, call_id: str, gather_id: str) -> Gather:
        """Read a gather."""
        return await self.client.run(self.operations.get_gather(call_id, gather_id))

    async def stop_gather(self, call_id: str, gather_id: str) -> None:
        """Stop a gather."""
        return await self.client.run(self.operations.stop_gather(call_id, gather_id))

    async def start_recording(self, call_id: str, **options: Unpack[RecordingOptions]) -> None:
        """Start recording."""
        return await self.client.run(self.operations.start_recording(call_id, **options))

    async def stop_recording(self, call_id: str) -> None:
        """Stop recording."""
        return await self.client.run(self.operations.stop_recording(call_id))

    def events(self, call_id: str) -> AsyncIterator[CallLogEvent]:
        """The call's event log, every page."""
        return self.client.iterate(self.operations.events_page(call_id))

    def recordings(self, call_id: str) -> AsyncIterator[Recording]:
        """The call's recordings, every page."""
        return self.client.iterate(self.operations.recordings_page(call_id))

    def transcriptions(self, call_id: str) -> AsyncIterator[Transcription]:
        """The call's transcriptions, every page."""
        return self.client.iterate(self.operations.transcriptions_page(call_id))


class AsyncCallHandle(BoundCall[AsyncCalls]):
    """One call of an ``AsyncClient``: ``await handle.speak("Hi")`` is ``await client.calls.speak(handle.id, "Hi")``."""

    get = on_call(AsyncCalls.get)
    answer = on_call(AsyncCalls.answer)
    reject = on_call(AsyncCalls.reject)
    hangup = on_call(AsyncCalls.hangup)
    update = on_call(AsyncCalls.update)
    transfer = on_call(AsyncCalls.transfer)
    speak = on_call(AsyncCalls.speak)
    play = on_call(AsyncCalls.play)
    stop_audio = on_call(AsyncCalls.stop_audio)
    send_dtmf = on_call(AsyncCalls.send_dtmf)
    gather = on_call(AsyncCalls.gather)
    get_gather = on_call(AsyncCalls.get_gather)
    stop_gather = on_call(AsyncCalls.stop_gather)
    start_recording = on_call(AsyncCalls.start_recording)
    stop_recording = on_call(AsyncCalls.stop_recording)
    events = on_call(AsyncCalls.events)
    recordings = on_call(AsyncCalls.recordings)
    transcriptions = on_call(AsyncCalls.transcriptions)
