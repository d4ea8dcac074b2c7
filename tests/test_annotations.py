"""Every public function and method of the package is annotated: its parameters and its return
(the type checker then holds the code to them; see pyproject.toml's mypy settings)."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "samplevis"
EXEMPT_RETURNS = {"__init__"}


def unannotated(tree: ast.Module) -> list[str]:
    """'name (what is missing)' for each public function of `tree` and each public method of
    its public classes, at any depth of classes, not inside functions."""
    found = []

    def visit(node: ast.AST, public: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, public and not child.name.startswith("_"))
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = child.name
                if not public or (name.startswith("_") and name not in ("__init__", "__call__")):
                    continue
                args = child.args
                params = [
                    a
                    for a in args.posonlyargs + args.args + args.kwonlyargs
                    if a.arg not in ("self", "cls")
                ]
                params += [a for a in (args.vararg, args.kwarg) if a is not None]
                missing = [a.arg for a in params if a.annotation is None]
                if child.returns is None and name not in EXEMPT_RETURNS:
                    missing.append("return")
                if missing:
                    found.append(f"{name} ({', '.join(missing)})")

    visit(tree, True)
    return found


def test_every_public_function_of_the_package_is_annotated():
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for item in unannotated(ast.parse(path.read_text())):
            missing.append(f"{path.relative_to(PACKAGE.parent)}: {item}")
    assert not missing, "\n".join(missing)


def test_the_check_sees_a_missing_parameter_and_return_but_not_private_helpers():
    source = (
        "def f(a, b: int): pass\n"
        "def _g(a): pass\n"
        "class C:\n    def m(self, x: int) -> None: pass\n    def n(self, x): pass\n"
        "class _D:\n    def m(self, x): pass\n"
    )
    assert unannotated(ast.parse(source)) == ["f (a, return)", "n (x, return)"]
