"""Do a trace's steps check out? Every arithmetic equation a step writes ("(-5 - 4) = -9") is evaluated.

A correct final answer reached through wrong steps ("Step 1: (-5 - 4) = 1." ... "-1") is a lucky guess, not
reasoning worth training on. This reads the equations of the form `EXPRESSION = NUMBER` in a text, evaluates
each expression exactly (fractions; + - * / and brackets only, nothing executed) and counts those that hold.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from fractions import Fraction

# an expression of numbers, operators and brackets, '=', then a number
_EQUATION = re.compile(r"((?:[-−+*/×÷()\s]|\d+(?:\.\d+)?)+?)\s*=\s*([-−]?\s*\d+(?:\.\d+)?)(?![\d.]*\s*[-+*/×÷]\s*\d)")
_TRANSLATE = str.maketrans({"×": "*", "÷": "/", "−": "-"})
MAX_CHARS = 200


@dataclass(frozen=True)
class StepCheck:
    """How many equations a text writes that could be evaluated, and how many of them are wrong."""

    checked: int = 0
    wrong: int = 0

    @property
    def holds(self) -> bool | None:
        """True when every checked equation holds, False when one does not, None when there was none."""
        return None if not self.checked else not self.wrong

    def __add__(self, other: StepCheck) -> StepCheck:
        return StepCheck(self.checked + other.checked, self.wrong + other.wrong)


def _value(node: ast.AST) -> Fraction:
    if isinstance(node, ast.Expression):
        return _value(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return Fraction(str(node.value))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _value(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
        left, right = _value(node.left), _value(node.right)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        return left / right  # ZeroDivisionError: not checkable
    raise ValueError("not arithmetic")


def check_text(text: str) -> StepCheck:
    """The equations written in one text, evaluated: how many could be checked, how many are wrong."""
    result = StepCheck()
    for match in _EQUATION.finditer(text or ""):
        left = match.group(1).translate(_TRANSLATE).strip()
        if len(left) > MAX_CHARS or not re.search(r"\d\s*[-+*/]\s*[-(]*\s*\d|^\s*-\s*\(", left):
            continue  # a lone number ('x = 5' reads as '5 = ...') is not an equation to check
        try:
            expected = _value(ast.parse(left, mode="eval"))
            stated = Fraction(match.group(2).translate(_TRANSLATE).replace(" ", ""))
        except (SyntaxError, ValueError, ZeroDivisionError, RecursionError):
            continue
        result += StepCheck(1, int(expected != stated))
    return result
