"""DB-GPT's wire basics shared by its doors: the Result envelope, its time format and its ModelOutput.

Every /api/v2/serve/... answer is {"success", "err_code", "err_msg", "data"}; failures are written by
`flowless.http.errors` from the errors the layer raises.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = ["dbgpt_time", "model_output", "result"]


def result(data: Any) -> dict[str, Any]:
    """DB-GPT's successful Result."""
    return {"success": True, "err_code": None, "err_msg": None, "data": data}


def dbgpt_time(iso: str | None) -> str | None:
    """An ISO-8601 timestamp as DB-GPT writes gmt_created/gmt_modified: "%Y-%m-%d %H:%M:%S"."""
    if not iso:
        return None
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S")


def model_output(text: str, *, error_code: int = 0, incremental: bool = False, finish_reason: str | None = None,
                 usage: dict[str, int] | None = None) -> dict[str, Any]:
    """DB-GPT's ModelOutput as JSON: an LLM operator's answer, and the in-band error of its streams."""
    return {"text": text, "error_code": error_code, "incremental": incremental, "model_context": None,
            "finish_reason": finish_reason, "usage": usage, "metrics": None}
