"""The components Flowless runs, and the catalog /api/v1/all renders from them."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flowless.engine.component import Component, Registry

__all__ = ["catalog", "chat_registry", "default_registry"]


def _components() -> list[type[Component]]:
    from flowless.components import inputs_outputs, logic, memory, processing, prompts, tools

    found: list[type[Component]] = [
        inputs_outputs.ChatInput, inputs_outputs.ChatOutput, inputs_outputs.TextInput, inputs_outputs.TextOutput,
        inputs_outputs.Webhook, prompts.Prompt, processing.ParserComponent, processing.ParseData,
        processing.TypeConverterComponent, processing.CombineText, processing.SplitText,
        logic.ConditionalRouter, memory.Memory, tools.CalculatorComponent,
    ]
    found.extend(_optional())
    return found


def _optional() -> list[type[Component]]:
    """Component groups that live in their own modules (models, data)."""
    import importlib

    extra: list[type[Component]] = []
    for module_name in ("flowless.components.models", "flowless.components.data"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        extra.extend(getattr(module, "COMPONENTS", []))
    return extra


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    """Every supported component, by Langflow type name and alias."""
    return Registry.of(_components())


@lru_cache(maxsize=1)
def chat_registry() -> Registry:
    """The default components plus the internal ones DB-GPT's chat and the model API build graphs from."""
    from flowless.components.models import INTERNAL_COMPONENTS

    registry = Registry(classes=dict(default_registry().classes))
    for component in INTERNAL_COMPONENTS:
        registry.classes[component.kind] = component
    return registry


def _template(component: type[Component]) -> dict[str, Any]:
    template: dict[str, Any] = {"_type": "Component"}
    for spec in component.inputs:
        template[spec.name] = {
            "name": spec.name, "display_name": spec.display_name or spec.name, "type": spec.type,
            "value": spec.value, "input_types": list(spec.input_types), "required": spec.required,
            "advanced": spec.advanced, "list": spec.is_list, "show": True, "password": spec.password,
            "load_from_db": spec.load_from_db, "info": spec.info,
            **({"options": list(spec.options)} if spec.options else {}),
        }
    return template


def catalog() -> dict[str, dict[str, Any]]:
    """Langflow's /api/v1/all shape: {category: {name: frontend node}}."""
    out: dict[str, dict[str, Any]] = {}
    for component in default_registry().unique():
        node = {
            "display_name": component.display_name, "description": component.description, "icon": component.icon,
            "base_classes": sorted({t for o in component.outputs for t in o.types}),
            "template": _template(component),
            "outputs": [{"name": o.name, "method": o.method, "types": list(o.types), "selected": o.types[0],
                         "display_name": o.display_name or o.name} for o in component.outputs],
            "field_order": [i.name for i in component.inputs], "beta": False, "legacy": False,
            "frozen": False, "custom_fields": {}, "output_types": [],
        }
        name = "Prompt Template" if component.kind == "Prompt" else component.kind
        out.setdefault(component.category, {})[name] = node
    return out
