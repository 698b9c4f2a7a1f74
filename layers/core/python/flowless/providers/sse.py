"""Server-sent events, read from a stream of text lines: the `data` of each event, in order.

Follows the event-stream format of the HTML standard, as far as chat APIs use it: `data:` lines of
one event are joined with newlines and the event ends at a blank line; comment lines (":", used as
keepalives) and the event, id and retry fields are skipped.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

__all__ = ["iter_sse_data"]


async def iter_sse_data(lines: AsyncIterable[str]) -> AsyncIterator[str]:
    data: list[str] = []
    async for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if field == "data":
            # One space after the colon belongs to the syntax, not to the value.
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        # A stream closed without the final blank line still delivered its last event.
        yield "\n".join(data)
