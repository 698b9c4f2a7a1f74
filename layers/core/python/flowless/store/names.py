"""Langflow's rule for making a taken name unique: "Name (1)", "Name (2)", ... or "name-1", "name-2"."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["next_free_name"]


def next_free_name(wanted: str, taken: Iterable[str], *, style: str = "paren") -> str:
    """`wanted` if free, else `wanted` with one more than the highest suffix already used.

    style "paren" gives "Name (3)" (flow and project names), "dash" gives "name-3" (endpoint names).
    """
    taken = set(taken)
    if wanted not in taken:
        return wanted
    pattern = (
        re.compile(rf"^{re.escape(wanted)} \((\d+)\)$") if style == "paren" else re.compile(
            rf"^{re.escape(wanted)}-(\d+)$"
        )
    )
    numbers = [int(m.group(1)) for name in taken if (m := pattern.match(name))]
    n = max(numbers, default=0) + 1
    return f"{wanted} ({n})" if style == "paren" else f"{wanted}-{n}"
