"""When to try a request again, and how an operation is run with retries, still without doing I/O.

``perform`` wraps an operation into a generator of ``Send`` and ``Sleep`` steps; a client answers each
``Send`` with a ``Response`` or a ``Failure`` and each ``Sleep`` by sleeping. The rules:

* Idempotent requests (GETs, and POSTs that set a call to a given state) are retried on connection
  failures, timeouts, 5xx and rate limiting (429), with capped exponential backoff; when the platform said
  when to come back (``X-RateLimit-Reset``, ``Retry-After``) the wait is until then instead, unless that
  is further away than ``max_reset_wait``.
* Anything else (``calls.create``, ``transfer``, playing audio, sending DTMF, starting a gather) is retried
  only when it certainly never left this machine: a failure to connect, or no pooled connection free.
  A second phone call is worse than an error, so once bytes may have been sent, the error is raised.

The rules are the same for every platform's client; only how a response becomes an error differs (``perform``'s
``read_error``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TypeVar

from .errors import ApiError
from .wire import Operation, Request, Response, error_from_response

__all__ = ["Failure", "ReadError", "RetryPolicy", "Send", "Sleep", "perform"]

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to try a request and how long to wait in between (seconds).

    The n-th retry waits ``min(backoff * 2 ** (n - 1), backoff_max)``. ``attempts`` counts the first try.
    """

    attempts: int = 3
    backoff: float = 0.5
    backoff_max: float = 8.0
    max_reset_wait: float = 30.0

    def backoff_delay(self, retry: int) -> float:
        """The wait before retry number ``retry`` (1-based)."""
        return float(min(self.backoff * 2 ** (retry - 1), self.backoff_max))

    def delay(self, request: Request, attempt: int, failure: Failure | ApiError, now: float) -> float | None:
        """Seconds to wait before trying ``request`` again after ``attempt`` failed, or ``None`` to give up."""
        if attempt >= self.attempts:
            return None
        if isinstance(failure, Failure):
            return self.backoff_delay(attempt) if request.idempotent or not failure.sent else None
        if not request.idempotent:
            return None
        if failure.reset_at_ms is not None:
            wait = max(failure.reset_at_ms / 1000 - now, 0.0)
            return wait if wait <= self.max_reset_wait else None
        if failure.status == 429 or failure.status >= 500:
            return self.backoff_delay(attempt)
        return None


@dataclass(frozen=True)
class Failure:
    """A request that got no response: ``error`` is what the HTTP library raised.

    ``sent`` is ``False`` only when the request certainly did not leave this machine.
    """

    error: Exception
    sent: bool


@dataclass(frozen=True)
class Send:
    """Step: send ``request`` and answer with a ``Response`` or a ``Failure``."""

    request: Request


@dataclass(frozen=True)
class Sleep:
    """Step: wait ``seconds`` before trying ``request`` again, then answer with ``None``."""

    seconds: float
    request: Request


Step = Send | Sleep
Steps = Generator[Step, Response | Failure | None, T]
ReadError = Callable[[Request, Response], ApiError]


def _attempts(
    request: Request, policy: RetryPolicy, clock: Callable[[], float], read_error: ReadError
) -> Steps[Response]:
    attempt = 0
    while True:
        attempt += 1
        outcome = yield Send(request)
        assert outcome is not None, "a Send step must be answered with a Response or a Failure"
        if isinstance(outcome, Response) and outcome.ok:
            return outcome
        failure = outcome if isinstance(outcome, Failure) else read_error(request, outcome)
        wait = policy.delay(request, attempt, failure, clock())
        if wait is None:
            raise failure.error if isinstance(failure, Failure) else failure
        yield Sleep(wait, request)


def perform(
    operation: Operation[T],
    policy: RetryPolicy,
    clock: Callable[[], float] = time.time,
    read_error: ReadError = error_from_response,
) -> Steps[T]:
    """Run ``operation`` as ``Send``/``Sleep`` steps, retrying its requests according to ``policy``;
    ``read_error`` turns a non-2xx response into the platform's typed error."""
    try:
        request = next(operation)
        while True:
            response = yield from _attempts(request, policy, clock, read_error)
            request = operation.send(response)
    except StopIteration as stop:
        result: T = stop.value
        return result
