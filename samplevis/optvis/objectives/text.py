"""An objective written as one string (`from_text`), what the command line's --objective takes:
units composed as in Python, e.g. ImageNet's bell pepper and, less strongly, movie theater, each
logit over its typical optimum:

    max(logits:945 / 33.6, 0.6 * logits:498 / 37.9)

The grammar: a unit is LAYER:CHANNEL (`channel(LAYER, CHANNEL)`, a layer name as
`samplevis layers` lists it); units and numbers combine with + - * /, a leading -, parentheses
and max(a, b, ...) (the largest per image, `maximum`), with Python's precedence. The string is
parsed by Python's `ast` and built from the objectives' algebra; nothing in it is run."""

from __future__ import annotations

import ast
import operator
import re

from samplevis.optvis.objectives.algebra import Objective, as_objective, channel, maximum

# LAYER:CHANNEL: a name (with / between parts, as a token layer's LAYER/class_token), a colon,
# an int; a / with spaces around it divides
UNIT = re.compile(r"(?<![\w.])([A-Za-z_][\w.]*(?:/[A-Za-z_][\w.]*)*):(-?\d+)\b")
PLACEHOLDER = "_unit{}_"
EXAMPLE = "max(logits:945 / 33.6, 0.6 * logits:498 / 37.9)"
GRAMMAR = (
    "units LAYER:CHANNEL and numbers, combined with + - * /, parentheses and max(a, b, ...), "
    f"e.g. {EXAMPLE}"
)
OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
FUNCTIONS = {"max": maximum}


def from_text(text: str) -> Objective:
    """The objective `text` writes (see the module's docstring): 'block5c_add:12' is
    `channel("block5c_add", 12)`, 'max(logits:945, 0.6 * logits:498)' the larger of a logit and
    six tenths of another.

    Args:
        text: "layer:channel" terms with numbers, `+ - * /`, parentheses and `max(...)`.

    Returns:
        The objective.

    Raises:
        TypeError: `text` is not a string.
        ValueError: naming what is wrong and how to write it.

    Examples:
        >>> from_text("max(logits:945, 0.6 * logits:498)").name
        "max(channel('logits', 945), (0.6 * channel('logits', 498)))"
    """
    if not isinstance(text, str):
        raise TypeError(f"an objective's text is a string; got {type(text).__name__}.")
    units: list[Objective] = []

    def placeholder(match: re.Match) -> str:
        units.append(channel(match.group(1), int(match.group(2))))
        return PLACEHOLDER.format(len(units) - 1)

    source = UNIT.sub(placeholder, text.strip())
    if len(units) == 1 and source == PLACEHOLDER.format(0):
        return units[0]  # a unit alone keeps its name, 'channel(...)'
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as err:
        why = _restored(err.msg, units)
        raise ValueError(f"cannot read the objective {text!r} ({why}); write {GRAMMAR}.") from None
    built = _build(tree.body, units, text)
    if not isinstance(built, Objective):
        raise ValueError(
            f"the objective {text!r} is a number and does not depend on the image; name a unit "
            f"LAYER:CHANNEL in it, e.g. {EXAMPLE}."
        )
    return built


def _build(node: ast.AST, units: list[Objective], text: str) -> Objective | float:
    """The objective (or number) of one node of the parsed text."""
    value = node.value if isinstance(node, ast.Constant) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(node, ast.Name):
        found = re.fullmatch(PLACEHOLDER.format(r"(\d+)"), node.id)
        if found:
            return units[int(found.group(1))]
        raise ValueError(
            f"{node.id!r} in the objective {text!r} is no unit: write a unit LAYER:CHANNEL "
            f"(e.g. {node.id}:0; `samplevis layers` lists the layers), in {GRAMMAR}."
        )
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        left, right = _build(node.left, units, text), _build(node.right, units, text)
        if isinstance(node.op, ast.Div) and right == 0.0 and not isinstance(right, Objective):
            raise ValueError(f"the objective {text!r} divides by 0; divide by another number.")
        return OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _build(node.operand, units, text)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        function = FUNCTIONS.get(node.func.id)
        if function is None or node.keywords or len(node.args) < 2:
            said = (
                f"{node.func.id}() takes two or more objectives, e.g. {EXAMPLE}"
                if function is not None
                else f"{node.func.id}() is not in the grammar; the one function is max(a, b, ...)"
            )
            raise ValueError(f"the objective {text!r}: {said}.")
        return function(*(as_objective(_build(a, units, text)) for a in node.args))
    shown = _restored(ast.unparse(node), units)
    raise ValueError(
        f"the objective {text!r} has {shown!r}, which is not in the grammar: {GRAMMAR}."
    )


def _restored(said: str, units: list[Objective]) -> str:
    """`said` with each unit as the text wrote it, LAYER:CHANNEL, for its placeholder."""
    for k, unit in enumerate(units):
        layer = next(iter(unit.layers))
        said = said.replace(PLACEHOLDER.format(k), f"{layer}:{int(unit.params[0])}")
    return said
