from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from flowless.providers.errors import ProviderError
from flowless.providers.retry import RetryPolicy, is_retryable_status, parse_retry_after

STATUSES = [(400, False), (401, False), (404, False), (408, True), (429, True), (500, True), (503, True)]


@pytest.mark.parametrize(("status", "retryable"), STATUSES)
def test_retryable_statuses(status: int, retryable: bool) -> None:
    assert is_retryable_status(status) is retryable


def test_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "3"}) == 0.25
    assert parse_retry_after({}) is None
    assert parse_retry_after({"retry-after": "soon"}) is None
    in_ten = format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    assert 8 <= parse_retry_after({"retry-after": in_ten}) <= 10  # type: ignore[operator]


def test_delay_backs_off_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(max_retries=5, base_delay=1.0, max_delay=5.0)
    for attempt, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 5.0), (9, 5.0)]:
        delays = [policy.delay(attempt) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert policy.delay(0, retry_after=3.0) == 3.0
    assert policy.delay(0, retry_after=60.0) == 5.0


def test_run_stops_at_non_retryable_errors_and_after_max_retries() -> None:
    policy = RetryPolicy(max_retries=2, base_delay=0.0, max_delay=0.0)
    calls: list[int] = []

    async def failing(retryable: bool) -> None:
        calls.append(1)
        raise ProviderError("test", "nope", retryable=retryable)

    with pytest.raises(ProviderError):
        asyncio.run(policy.run(lambda: failing(False)))
    assert len(calls) == 1
    calls.clear()
    with pytest.raises(ProviderError):
        asyncio.run(policy.run(lambda: failing(True)))
    assert len(calls) == 3
