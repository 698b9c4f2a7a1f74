"""DB-GPT's wire basics shared by its doors: the Result envelope and its time format.

Every /api/v2/serve/... answer is {"success", "err_code", "err_msg", "data"}; failures are written by
`flowless.http.errors` from the errors the layer raises.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = ["dbgpt_time", "result"]


def result(data: Any) -> dict[str, Any]:
    """DB-GPT's successful Result."""
    return {"success": True, "err_code": None, "err_msg": None, "data": data}


def dbgpt_time(iso: str | None) -> str | None:
    """An ISO-8601 timestamp as DB-GPT writes gmt_created/gmt_modified: "%Y-%m-%d %H:%M:%S"."""
    if not iso:
        return None
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S")
