"""Prompt Template: a template whose {variables} are filled from fields or edges."""

from __future__ import annotations

from string import Formatter

from flowless.engine.component import Component, Input, Output
from flowless.engine.types import Message, text_of
from flowless.errors import InvalidFlowError

__all__ = ["Prompt", "template_variables"]


def template_variables(template: str) -> list[str]:
    """The {variables} of a template in order of first appearance ({{ and }} are literal braces)."""
    try:
        names = [name for _, name, _, _ in Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise InvalidFlowError(f"Invalid prompt template: {exc}") from exc
    return list(dict.fromkeys(names))


class Prompt(Component):
    kind = "Prompt"
    aliases = ("Prompt Template",)
    display_name = "Prompt Template"
    description = "Create a prompt template with dynamic variables."
    category = "processing"
    icon = "braces"
    inputs = (
        Input("template", "Template", type="prompt", value=""),
        Input("tool_placeholder", "Tool Placeholder", value="", advanced=True),
    )
    outputs = (Output("prompt", "build_prompt", ("Message",), "Prompt"),)

    def build_prompt(self) -> Message:
        template = text_of(self.params.get("template") or "")
        values = {name: text_of(self.params.get(name)) for name in template_variables(template)}
        try:
            text = template.format(**values)
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            raise InvalidFlowError(f"Prompt {self.vertex.id}: cannot fill the template: {exc}") from exc
        return Message(text=text, flow_id=self.ctx.flow_id, session_id=self.ctx.session_id)
