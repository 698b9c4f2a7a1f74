"""Calculator: arithmetic on an expression, evaluated from its syntax tree (never with eval)."""

from __future__ import annotations

import ast
import operator
from typing import Any

from flowless.engine.component import Component, Input, Output
from flowless.engine.types import Data, text_of

__all__ = ["CalculatorComponent", "calculate"]

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.Pow: operator.pow, ast.Mod: operator.mod, ast.FloorDiv: operator.floordiv}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}

# Results are kept to a size a calculator answer can have: a crafted expression must not eat the CPU or memory.
_MAX_BITS = 4096


def _too_big(op: ast.operator, left: Any, right: Any) -> bool:
    """Whether an integer power or product would pass _MAX_BITS, judged before computing it."""
    if not (isinstance(left, int) and isinstance(right, int)):
        return False
    if isinstance(op, ast.Pow):
        return right > 0 and max(abs(left).bit_length() - 1, 0) * right > _MAX_BITS
    if isinstance(op, ast.Mult):
        return abs(left).bit_length() + abs(right).bit_length() > _MAX_BITS
    return False


def calculate(expression: str) -> float:
    """The value of an arithmetic expression of numbers, + - * / ** % // and parentheses."""

    def walk(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Pow) and abs(right) > 1000:
                raise ValueError("exponent too large")
            if _too_big(node.op, left, right):
                raise ValueError("result too large")
            return _BINARY[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](walk(node.operand))
        raise ValueError(f"Unsupported operation: {ast.dump(node)[:40]}")

    return walk(ast.parse(expression.strip(), mode="eval"))


class CalculatorComponent(Component):
    kind = "CalculatorComponent"
    display_name = "Calculator"
    description = "Perform basic arithmetic operations on a given expression."
    category = "tools"
    icon = "calculator"
    inputs = (Input("expression", "Expression", value="",
                    info="The arithmetic expression to evaluate (e.g., 4*4*(33/22)+12-20)."),)
    outputs = (Output("result", "evaluate_expression", ("Data",), "Data"),)

    def evaluate_expression(self) -> Data:
        expression = text_of(self.params.get("expression"))
        try:
            value = calculate(expression)
            text = f"{value:.6f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
        except ZeroDivisionError:
            return Data(data={"error": "Error: Division by zero", "input": expression})
        except (ValueError, SyntaxError, TypeError, OverflowError) as exc:
            return Data(data={"error": f"Invalid expression: {exc}", "input": expression})
        return Data(data={"result": text})
