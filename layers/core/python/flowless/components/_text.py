"""Turning edge values into text the way Langflow's chat and parser components do."""

from __future__ import annotations

import json
import re
from typing import Any

from flowless.engine.types import Data, DataFrame, Message, text_of

__all__ = ["clean_text", "markdown_table", "to_chat_text"]


def clean_text(text: str) -> str:
    """Drop whitespace-only lines and collapse 3+ newlines to 2 (ChatOutput's cleaning of plain strings)."""
    lines = [line for line in text.split("\n") if line.strip() or line == ""]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def markdown_table(frame: DataFrame, *, drop_empty: bool = True) -> str:
    """A pipe table without an index column, as Langflow renders a DataFrame (`to_markdown(index=False)`)."""
    rows = [r for r in frame.rows if not drop_empty or any(v not in (None, "") for v in r.values())]
    if not rows:
        return ""
    columns = frame.columns()

    def cell(value: Any) -> str:
        return str(value if value is not None else "").replace("|", "\\|").replace("\n", "<br/>")

    header = "| " + " | ".join(columns) + " |"
    rule = "|" + "|".join(":" + "-" * max(len(c), 3) for c in columns) + "|"
    body = ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join([header, rule, *body])


def to_chat_text(value: Any, *, clean: bool = True) -> str:
    """What ChatOutput shows for a value: a Message's text, JSON for Data, a table for a DataFrame."""
    if isinstance(value, Message):
        return value.text
    if isinstance(value, str):
        return clean_text(value) if clean else value
    if isinstance(value, Data):
        return "```json\n" + json.dumps(value.data, indent=4, ensure_ascii=False, default=str) + "\n```"
    if isinstance(value, DataFrame):
        return markdown_table(value, drop_empty=clean)
    if isinstance(value, list):
        return "\n".join(to_chat_text(v, clean=clean) for v in value)
    return text_of(value)
