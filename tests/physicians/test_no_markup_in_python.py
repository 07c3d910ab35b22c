"""Markup lives in templates: no module of the physicians app writes table cells, form controls or
Bootstrap's control classes in a string (crispy-forms and the templates do). A size modifier such
as `form-control-sm`, handed to crispy's Field(css_class=...), is not markup."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import physicians

FORBIDDEN = re.compile(r"<(?:tr|td|th|input|select|option|textarea)\b|\bform-(?:control|select)\b(?!-(?:sm|lg)\b)")
APP = Path(physicians.__file__).parent


def _docstring_lines(source: str) -> set[int]:
    """Where the docstrings start: prose about markup is not markup."""
    lines = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                lines.add(first.lineno)
    return lines


def _strings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal of the module but its docstrings (comments are not tokens
    of this kind)."""
    source = path.read_text(encoding="utf-8")
    docstrings = _docstring_lines(source)
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [
        (tok.start[0], tok.string) for tok in tokens if tok.type == tokenize.STRING and tok.start[0] not in docstrings
    ]


def test_no_python_module_of_the_app_writes_markup():
    found = [
        f"{path.relative_to(APP.parent)}:{line}: {text[:80]}"
        for path in sorted(APP.rglob("*.py"))
        for line, text in _strings(path)
        if FORBIDDEN.search(text)
    ]
    assert found == []


def test_the_check_sees_markup_in_strings(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""A module about <select> widgets."""\n'
        'cell = f"<td>{x}</td>"  # <td> in a comment\nsize = "form-control-sm"\nplain = "form-select"\n'
    )
    flagged = [text for _, text in _strings(sample) if FORBIDDEN.search(text)]
    assert flagged == ['f"<td>{x}</td>"', '"form-select"']
