"""When to try a failed model call again, and how long to wait first.

Rate limits (429), server errors (5xx), request timeouts (408) and dropped connections are usually
transient; anything else in 4xx will fail the same way again. Waits grow exponentially with random
jitter, so many Lambdas limited at once do not come back in step; a server's Retry-After wins, but
every wait is capped so one call cannot sleep through the function's time limit.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TypeVar

from flowless.providers.errors import ProviderError

__all__ = ["RetryPolicy", "is_retryable_status", "parse_retry_after"]

T = TypeVar("T")


def is_retryable_status(status_code: int) -> bool:
    return status_code in (408, 429) or status_code >= 500


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asks to wait: retry-after-ms (OpenAI's), or Retry-After in seconds or as a date."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(float(millis) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class RetryPolicy:
    """Up to `max_retries` retries after the first attempt, waiting between base_delay·2ⁿ and max_delay."""

    max_retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 20.0

    def should_retry(self, error: ProviderError, attempt: int) -> bool:
        """Whether to try again after `attempt` (0 for the first try) failed with `error`."""
        return error.retryable and attempt < self.max_retries

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        ceiling = min(self.base_delay * 2**attempt, self.max_delay)
        # "Equal jitter": at least half the exponential step, so retries still back off.
        return random.uniform(ceiling / 2, ceiling)

    async def wait(self, attempt: int, error: ProviderError) -> None:
        await asyncio.sleep(self.delay(attempt, error.retry_after))

    async def run(self, call: Callable[[], Awaitable[T]]) -> T:
        """Await `call()` until it succeeds, or raise its last ProviderError."""
        attempt = 0
        while True:
            try:
                return await call()
            except ProviderError as error:
                if not self.should_retry(error, attempt):
                    raise
                await self.wait(attempt, error)
            attempt += 1
