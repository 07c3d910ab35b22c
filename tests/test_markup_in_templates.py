"""Markup lives in templates, and forms render through crispy-forms (issue 14).

No module of the application (outside tests/ and bench/) writes table cells, form controls or
Bootstrap's form classes in a Python string: a designer finds every row and field in templates/,
and the next Django or crispy release cannot drift from a copy of its rendering.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ["accounts", "documents", "liaison_crm", "outreach", "patients", "physicians", "reporting"]
FORBIDDEN = re.compile(r"<(tr|td|th|input|select|option|textarea)\b|form-control|form-select", re.IGNORECASE)


def _modules() -> list[Path]:
    return sorted(p for app in APPS for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts)


def _markup(source: str) -> list[str]:
    """The string constants of `source` (f-string parts included, docstrings not: prose may
    name a tag) that write a forbidden tag or class."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        f"line {node.lineno}: {node.value[:80]!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and FORBIDDEN.search(node.value)
    ]


def test_the_application_has_modules_to_check():
    assert len(_modules()) > 50


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_writes_markup_in_a_string(path):
    found = _markup(path.read_text())
    assert not found, f"{path.relative_to(ROOT)} writes markup in Python: {found}"


def test_the_check_reads_f_strings_and_skips_docstrings():
    assert _markup("x = f'<td class=\"a\">{value}</td>'")
    assert _markup("css = 'form-select form-select-sm'")
    assert not _markup('def f():\n    """Renders a <select> of people."""\n')
