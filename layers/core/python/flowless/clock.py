"""Time and id helpers shared by the store and the wire formats."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

__all__ = ["new_id", "now_iso"]


def now_iso() -> str:
    """Now in UTC as Langflow writes `updated_at`: ISO-8601 to the microsecond, with +00:00."""
    return datetime.now(UTC).isoformat()


def new_id() -> str:
    """A new random UUID as a string."""
    return str(uuid.uuid4())
