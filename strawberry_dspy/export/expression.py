"""The canonical form of the arithmetic or algebraic expression a question asks about, for decontamination.

Two questions that ask for the same expression written differently — spacing, redundant brackets, unary signs
("( 3 + -3 )", "3 + -3", "3 - 3", "+3 - +3", "--3") — get the same key, whatever words surround it. The
expression is parsed (Python's grammar, with ^ × ÷ − = read as ** * / - ==); where it does not parse, it has no key
and the other checks (hash, n-grams) decide alone.
"""

from __future__ import annotations

import ast
import re

# a run of expression characters holding at least one operator between two operands
_CANDIDATE = re.compile(r"(?:\d+(?:\.\d+)?|\b[a-z]\b|[()+\-*/^×÷−=]|[ \t])+")
_OPERAND = re.compile(r"\d|\b[a-z]\b")
_TRANSLATE = str.maketrans({"^": "**", "×": "*", "÷": "/", "−": "-", "=": "=="})
_THOUSANDS = re.compile(r"(\d),(\d{3})\b")
MAX_CHARS = 400  # longer runs are not arithmetic questions; skip the parse


class _Canonical(ast.NodeTransformer):
    """Fold unary signs: +x -> x, --x -> x, a + -b -> a - b, a - -b -> a + b; numbers as their value."""

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        node = self.generic_visit(node)
        if isinstance(node.op, ast.UAdd):
            return node.operand
        if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.UnaryOp) and isinstance(node.operand.op, ast.USub):
            return node.operand.operand
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.generic_visit(node)
        right = node.right
        if isinstance(node.op, (ast.Add, ast.Sub)) and isinstance(right, ast.UnaryOp) and isinstance(right.op, ast.USub):
            op = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
            return ast.BinOp(node.left, op, right.operand)
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, float) and node.value.is_integer():
            return ast.Constant(int(node.value))
        return node


def _parse(text: str) -> str | None:
    text = text.strip(" \t=").translate(_TRANSLATE)
    if len(text) > MAX_CHARS or not text:
        return None
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError):
        return None
    allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Load, ast.operator, ast.unaryop,
               ast.Compare, ast.Eq)
    if not all(isinstance(node, allowed) for node in ast.walk(tree)):
        return None
    if not any(isinstance(node, ast.BinOp) for node in ast.walk(tree)):
        return None  # a lone number or word is not an expression worth a key
    try:
        return ast.unparse(_Canonical().visit(tree))
    except RecursionError:
        return None


def expression_key(question: str) -> str | None:
    """The canonical form of the question's expression ('9 + 3' for 'Calculate 9 - -3.'), or None when it has none."""
    found = []
    text = _THOUSANDS.sub(r"\1\2", question.lower())
    for match in _CANDIDATE.finditer(text):
        run = match.group(0).strip()
        if len(_OPERAND.findall(run)) < 2:
            continue
        canonical = _parse(run)
        if canonical:
            found.append(canonical)
    return " ; ".join(found) or None
