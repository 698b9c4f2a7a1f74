"""If-Else (ConditionalRouter): route a message down one of two branches; the other branch does not run."""

from __future__ import annotations

import re

from flowless.engine.component import Component, Input, Output
from flowless.engine.types import Message, Stop, text_of

__all__ = ["ConditionalRouter", "evaluate"]

OPERATORS = ("equals", "not equals", "contains", "starts with", "ends with", "regex", "less than",
             "less than or equal", "greater than", "greater than or equal")


def evaluate(text: str, operator: str, match: str, *, case_sensitive: bool) -> bool:
    """Langflow's If-Else condition. Numeric operators on non-numbers, and bad regexes, are false."""
    if operator == "regex":
        try:
            return re.search(match, text) is not None
        except re.error:
            return False
    if operator in ("less than", "less than or equal", "greater than", "greater than or equal"):
        try:
            a, b = float(text), float(match)
        except ValueError:
            return False
        return {"less than": a < b, "less than or equal": a <= b,
                "greater than": a > b, "greater than or equal": a >= b}[operator]
    if not case_sensitive:
        text, match = text.lower(), match.lower()
    return {
        "equals": text == match, "not equals": text != match, "contains": match in text,
        "starts with": text.startswith(match), "ends with": text.endswith(match),
    }.get(operator, False)


class ConditionalRouter(Component):
    kind = "ConditionalRouter"
    display_name = "If-Else"
    description = "Routes an input message to a corresponding output based on text comparison."
    category = "logic"
    icon = "split"
    inputs = (
        Input("input_text", "Text Input", required=True, input_types=("Message",)),
        Input("operator", "Operator", value="equals", options=OPERATORS),
        Input("match_text", "Match Text", required=True),
        Input("case_sensitive", "Case Sensitive", type="bool", value=True, advanced=True),
        Input("true_case_message", "Case True", input_types=("Message",), advanced=True),
        Input("false_case_message", "Case False", input_types=("Message",), advanced=True),
        Input("max_iterations", "Max Iterations", type="int", value=10, advanced=True),
        Input("default_route", "Default Route", value="false_result", options=("true_result", "false_result"),
              advanced=True),
    )
    outputs = (
        Output("true_result", "true_response", ("Message",), "True"),
        Output("false_result", "false_response", ("Message",), "False"),
    )

    def _condition(self) -> bool:
        case = self.params.get("case_sensitive")
        case_sensitive = True if case is None or case == "" else str(case).lower() in ("true", "1")
        return evaluate(text_of(self.params.get("input_text")), str(self.param("operator", "equals")),
                        text_of(self.params.get("match_text")), case_sensitive=case_sensitive)

    def _answer(self, field: str) -> Message:
        chosen = self.params.get(field)
        if chosen is None or text_of(chosen) == "":
            chosen = self.params.get("input_text")
        return chosen if isinstance(chosen, Message) else Message(text=text_of(chosen), flow_id=self.ctx.flow_id)

    def true_response(self) -> Message | Stop:
        return self._answer("true_case_message") if self._condition() else Stop()

    def false_response(self) -> Message | Stop:
        return Stop() if self._condition() else self._answer("false_case_message")
