"""Fixtures for provider tests: live local stand-ins for the model APIs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.stubs.openai_stub import OpenAIStub


@pytest.fixture
def openai_stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as stub:
        yield stub
