"""DB-GPT's AWEL trigger calls on the wire: the request (CommonLLMHttpRequestBody) and what each leaf operator
of a simple chat flow answers, written from the engine's events.

Streamed (the request's `stream`, as DB-GPT decides per request), by leaf:
- openai_streaming_output_operator: OpenAI-style chunks (a role chunk, content deltas, a finish chunk), then
  `data: [DONE]`; a failure is DB-GPT's error object, then `data: [DONE]`.
- common_streaming_output_operator: `data:<answer so far>` events; a failure is `data:[ERROR](error_code: 1): ...`.
- an LLM operator as leaf: one ModelOutput JSON object per line, each with the answer so far.
Keep-alives are empty lines, which DB-GPT's client skips (it refuses SSE comments in these streams).

Whole (stream false): the leaf's result as JSON: a CommonLLMHttpResponseBody ({text, error_code, metrics}) from
model_output_2_common_response_body_operator, else a ModelOutput.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel, ConfigDict

from flowless.engine.events import Event, RunResult
from flowless.engine.outputs import final_text
from flowless.wire.dbgpt import model_output

__all__ = ["TriggerRequest", "trigger_chunks", "trigger_response"]

_KEEPALIVE = "\n"
_DONE = "data: [DONE]\n\n"
_RESPONSE_BODY_LEAF = "model_output_2_common_response_body_operator"


class TriggerRequest(BaseModel):
    """DB-GPT's CommonLLMHttpRequestBody; unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str
    messages: str | list[str]
    stream: bool = False
    temperature: float | None = None
    max_new_tokens: int | None = None
    conv_uid: str | None = None
    span_id: str | None = None
    user_name: str | None = None
    sys_code: str | None = None
    extra: dict[str, Any] | None = None

    def prompt(self) -> str:
        """The text the flow is asked: the string, or the last of a list."""
        if isinstance(self.messages, str):
            return self.messages
        return self.messages[-1] if self.messages else ""


def trigger_response(leaf: str, result: RunResult) -> dict[str, Any]:
    """The whole answer of a trigger call."""
    text = final_text(result).replace("\ufffd", "")
    if leaf == _RESPONSE_BODY_LEAF:
        return {"text": text, "error_code": 0, "metrics": None}
    return model_output(text, usage=result.usage.as_openai(), finish_reason="stop")


def _sse(body: Any) -> str:
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


async def trigger_chunks(events: AsyncIterator[Event | None], *, leaf: str, model: str) -> AsyncIterator[str]:
    """The streamed answer of a trigger call."""
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    openai_style = leaf == "openai_streaming_output_operator"
    if openai_style:
        yield _sse({"id": completion_id, "model": model,
                    "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]})
    answer, streamed = "", False
    async for event in events:
        if event is None:
            yield _KEEPALIVE
            continue
        if event.kind == "error":
            message = str(event.data["error"])
            if openai_style:
                yield _sse(model_output(message, error_code=1))
                yield _DONE
            elif leaf == "common_streaming_output_operator":
                yield f"data:[ERROR](error_code: 1): {message}"
            else:
                yield json.dumps(model_output(message, error_code=1), ensure_ascii=False) + "\n"
            return
        if event.kind == "token":
            streamed = True
            text = str(event.data["chunk"])
        elif event.kind == "end" and not streamed:
            text = final_text(event.data["result"])
        else:
            continue
        text = text.replace("\ufffd", "")
        if not text:
            continue
        answer += text
        if openai_style:
            yield _sse({"id": completion_id, "model": model,
                        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]})
        elif leaf == "common_streaming_output_operator":
            yield f"data:{answer}\n\n"
        else:
            yield json.dumps(model_output(answer), ensure_ascii=False) + "\n"
    if openai_style:
        yield _sse({"id": completion_id, "model": model,
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        yield _DONE
