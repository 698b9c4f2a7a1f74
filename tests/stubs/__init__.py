"""Real HTTP servers on 127.0.0.1 that speak third-party wire formats, for tests without the internet.

Import them as `from tests.stubs.openai_stub import OpenAIStub` (pytest puts the repository root on the path).
"""
