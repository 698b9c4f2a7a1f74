"""OpenAI-style chat messages in the shape of Bedrock's Converse API.

Converse takes system prompts apart from the conversation, and wants the conversation to alternate
between user and assistant; chat history often does not (two user turns in a row after a failed
run), so consecutive turns of one role become one turn with several text blocks.
"""

from __future__ import annotations

from typing import Any

__all__ = ["to_converse"]

_SYSTEM_ROLES = frozenset({"system", "developer"})  # "developer" is OpenAI's newer name for system
_TURN_ROLES = frozenset({"user", "assistant"})


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, list):
        # OpenAI's content parts: only the text parts have a Converse equivalent here.
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content)


def to_converse(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(system, messages) for converse(): system text blocks, and alternating user/assistant turns."""
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        text = _text(message.get("content"))
        if not text.strip():
            continue  # Converse rejects blank text blocks; an empty turn says nothing anyway
        if role in _SYSTEM_ROLES:
            system.append({"text": text})
        elif role in _TURN_ROLES:
            if turns and turns[-1]["role"] == role:
                turns[-1]["content"].append({"text": text})
            else:
                turns.append({"role": role, "content": [{"text": text}]})
        else:
            raise ValueError(
                f"message role {role!r} cannot be sent to Bedrock; use system, user or assistant"
            )
    return system, turns
