"""Optional rate limiting, so clients can exercise their handling of the platform's limits.

The platform throttles call creation with **403** ``call-rate-limit`` (category ``limit``) and every other
request with **429** ``rate-limit-reached`` plus ``X-RateLimit-Reset`` in epoch milliseconds
(docs/platforms/catapult-voice.md#rate-limits). Rates
are averaged over a window on the simulated clock, like the documented "1 call/s averaged over 10 s".
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from .clock import SimClock
from .errors import ApiError

__all__ = ["RateLimit", "RateLimiter"]


@dataclass(frozen=True)
class RateLimit:
    """Limits in requests per simulated second (``None``: unlimited), averaged over ``window`` seconds."""

    calls_per_second: float | None = None
    requests_per_second: float | None = None
    window: float = 10.0


class _Window:
    def __init__(self, rate: float, window: float) -> None:
        self.budget = max(1, int(rate * window))
        self.window = window
        self.hits: deque[float] = deque()

    def take(self, now: float) -> float | None:
        """Record a hit and return None, or return when the next hit will be allowed."""
        while self.hits and self.hits[0] <= now - self.window:
            self.hits.popleft()
        if len(self.hits) >= self.budget:
            return self.hits[0] + self.window
        self.hits.append(now)
        return None


class RateLimiter:
    """Applies a :class:`RateLimit`; raises the platform's errors when over it."""

    def __init__(self, limit: RateLimit, clock: SimClock) -> None:
        self.clock = clock
        self._create = _Window(limit.calls_per_second, limit.window) if limit.calls_per_second else None
        self._other = _Window(limit.requests_per_second, limit.window) if limit.requests_per_second else None

    def check_create(self) -> None:
        """Before ``POST /calls``."""
        if self._create is not None and (reset := self._create.take(self.clock.now())) is not None:
            raise ApiError(
                403,
                "limit",
                "call-rate-limit",
                "The maximum number of calls per second has been exceeded",
                {"rateLimitResetTime": self.clock.epoch_ms(reset)},
            )

    def check_request(self) -> None:
        """Before any other REST request."""
        if self._other is not None and (reset := self._other.take(self.clock.now())) is not None:
            reset_ms = self.clock.epoch_ms(reset)
            raise ApiError(
                429,
                "too-many-requests",
                "rate-limit-reached",
                "Too many requests; retry after the time in X-RateLimit-Reset",
                {"rateLimitResetTime": reset_ms},
                {"X-RateLimit-Reset": str(reset_ms)},
            )
