"""The contract between the engine and native components, and the registry that holds them.

A component class declares its Langflow type (`data.type`), inputs and outputs; the engine builds one
instance per vertex with its resolved parameters, then calls the method behind each output it needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from flowless.engine.context import RunContext
    from flowless.engine.graph import Vertex

__all__ = ["Component", "Input", "Output", "Registry"]


@dataclass(frozen=True)
class Input:
    """One input of a component, as the catalog (/api/v1/all) shows it."""

    name: str
    display_name: str = ""
    type: str = "str"
    value: Any = ""
    input_types: tuple[str, ...] = ()
    required: bool = False
    advanced: bool = False
    is_list: bool = False
    options: tuple[str, ...] = ()
    password: bool = False
    load_from_db: bool = False
    info: str = ""


@dataclass(frozen=True)
class Output:
    """One output: its name on edges, the method that computes it, and the types it carries."""

    name: str
    method: str
    types: tuple[str, ...] = ("Message",)
    display_name: str = ""


class Component:
    """Base of every native component. Subclasses set the class attributes and output methods."""

    kind: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    display_name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    category: ClassVar[str] = "processing"
    icon: ClassVar[str] = ""
    inputs: ClassVar[tuple[Input, ...]] = ()
    outputs: ClassVar[tuple[Output, ...]] = ()

    def __init__(self, *, vertex: Vertex, params: dict[str, Any], ctx: RunContext) -> None:
        self.vertex = vertex
        self.params = params
        self.ctx = ctx
        self.sent_messages: list[Any] = []

    def param(self, name: str, default: Any = None) -> Any:
        """A parameter's value, or the input's declared default, or `default`."""
        value = self.params.get(name)
        if value is None:
            for spec in self.inputs:
                if spec.name == name:
                    return spec.value if spec.value is not None else default
            return default
        return value

    @classmethod
    def output_method(cls, name: str) -> str | None:
        for output in cls.outputs:
            if output.name == name:
                return output.method
        return None


@dataclass
class Registry:
    """The components a run may use, by Langflow type name (and aliases)."""

    classes: dict[str, type[Component]] = field(default_factory=dict)

    @classmethod
    def of(cls, components: Iterable[type[Component]]) -> Registry:
        registry = cls()
        for component in components:
            registry.classes[component.kind] = component
            for alias in component.aliases:
                registry.classes[alias] = component
        return registry

    def supports(self, kind: str) -> bool:
        return kind in self.classes

    def output_names(self, kind: str) -> tuple[str, ...]:
        component = self.classes.get(kind)
        return tuple(o.name for o in component.outputs) if component else ()

    def get(self, kind: str) -> type[Component]:
        return self.classes[kind]

    def unique(self) -> list[type[Component]]:
        """Each component class once, in registration order."""
        seen: dict[type[Component], None] = {}
        for component in self.classes.values():
            seen.setdefault(component, None)
        return list(seen)
