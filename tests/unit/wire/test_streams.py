"""The streaming adapters over engine events: Langflow records, OpenAI chunks, keep-alives."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from flowless.engine.events import Event, RunResult, VertexResult
from flowless.engine.types import Message
from flowless.wire.streams import langflow_records, openai_chunks, with_keepalives


def _answer_vertex(text: str) -> VertexResult:
    message = Message(text=text, sender="Machine", sender_name="AI", session_id="s")
    return VertexResult(id="ChatOutput-x", type="ChatOutput", display_name="Chat Output", is_input=False,
                        is_output=True, results={"message": message}, messages=[message])


async def _events(*items: Event, pause: float = 0.0) -> AsyncIterator[Event]:
    for item in items:
        if pause:
            await asyncio.sleep(pause)
        yield item


def _collect(gen) -> list:
    async def run():
        return [x async for x in gen]

    return asyncio.run(run())


def test_openai_chunks_from_tokens():
    events = _events(Event("add_message", {"message": Message(text="hi")}), Event("token", {"chunk": "Hel", "id": "m"}),
                     Event("token", {"chunk": "lo", "id": "m"}),
                     Event("end", {"result": RunResult("s", "hi", [_answer_vertex("Hello")])}))
    chunks = _collect(openai_chunks(events, model="my-flow"))
    assert chunks[-1] == "data: [DONE]\n\n"
    bodies = [json.loads(c.removeprefix("data: ")) for c in chunks[:-1]]
    assert all(b["object"] == "chat.completion.chunk" and b["model"] == "my-flow" for b in bodies)
    assert len({b["id"] for b in bodies}) == 1
    assert [b["choices"][0]["delta"] for b in bodies] == [
        {"role": "assistant", "content": ""}, {"content": "Hel"}, {"content": "lo"}, {}]
    assert bodies[-1]["choices"][0]["finish_reason"] == "stop"


def test_openai_chunks_without_tokens_send_the_whole_answer_once():
    events = _events(Event("end", {"result": RunResult("s", "hi", [_answer_vertex("Whole answer")])}))
    bodies = [json.loads(c.removeprefix("data: ")) for c in _collect(openai_chunks(events, model="m"))[:-1]]
    assert [b["choices"][0]["delta"].get("content") for b in bodies] == ["", "Whole answer", None]


def test_openai_chunks_end_with_an_error_chunk_then_done():
    chunks = _collect(openai_chunks(_events(Event("error", {"error": "boom"})), model="m"))
    assert json.loads(chunks[1].removeprefix("data: "))["error"]["message"] == "boom"
    assert chunks[-1] == "data: [DONE]\n\n"


def test_langflow_records_stop_after_an_error():
    events = _events(Event("token", {"chunk": "a", "id": "m"}), Event("error", {"error": "bad"}),
                     Event("token", {"chunk": "never", "id": "m"}))
    records = [json.loads(r) for r in _collect(langflow_records(events, lambda result: {}))]
    assert records == [{"event": "token", "data": {"chunk": "a", "id": "m"}},
                       {"event": "error", "data": {"error": "bad"}}]


def test_keepalives_fill_silences_and_closing_cancels_the_source():
    cancelled = asyncio.Event()

    async def slow() -> AsyncIterator[Event]:
        try:
            await asyncio.sleep(0.25)
            yield Event("token", {"chunk": "x", "id": "m"})
            await asyncio.sleep(10)
            yield Event("token", {"chunk": "never", "id": "m"})
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def run():
        seen = []
        stream = with_keepalives(slow(), every_s=0.05)
        async for item in stream:
            seen.append(item)
            if item is not None:
                break
        await stream.aclose()
        return seen, cancelled.is_set()

    seen, source_cancelled = asyncio.run(run())
    assert seen[-1].kind == "token" and seen.count(None) >= 3
    assert source_cancelled
