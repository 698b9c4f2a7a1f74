"""What a run yields: Langflow's event names with engine-side data. Adapters turn them into wire formats."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from flowless.engine.types import TokenUsage

__all__ = ["Event", "RunResult", "VertexResult"]

EventKind = Literal["vertices_sorted", "add_message", "token", "end_vertex", "end", "error"]


@dataclass
class VertexResult:
    """What one built vertex produced."""

    id: str
    type: str
    display_name: str
    is_input: bool
    is_output: bool
    results: dict[str, Any]              # output name -> engine value (Message, Data, DataFrame, ...)
    messages: list[Any] = field(default_factory=list)   # Messages it sent to the chat
    timedelta: float | None = None
    valid: bool = True
    error: str | None = None
    next_vertices_ids: list[str] = field(default_factory=list)
    inactivated_vertices: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    """A finished run: every built vertex in node order, and what the caller asked for."""

    session_id: str
    input_value: str | None
    vertices: list[VertexResult]
    usage: TokenUsage = field(default_factory=TokenUsage)


@dataclass
class Event:
    """One event of a run.

    kind and data:
      vertices_sorted {"ids": [first layer], "to_run": [every vertex to run]}
      add_message     {"message": Message}
      token           {"chunk": str, "id": message id}
      end_vertex      {"vertex": VertexResult}
      end             {"result": RunResult}
      error           {"error": str, "vertex_id": str | None}
    """

    kind: EventKind
    data: dict[str, Any]
