"""The NUCC Health Care Provider Taxonomy codes physicians use, read from the CSV shipped in
`physicians/data/` (where it came from: `physicians/data/README.md`)."""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path
from typing import NamedTuple

DATA_FILE = Path(__file__).resolve().parent / "data" / "nucc_taxonomy_physicians.csv"

# Ten characters, the last an X (NUCC's own shape; it says nothing about whether the code exists).
CODE_SHAPE = re.compile(r"[0-9]{3}[0-9A-Z]{6}X")


class Taxonomy(NamedTuple):
    code: str
    grouping: str
    classification: str
    specialization: str
    display_name: str


@cache
def codes() -> dict[str, Taxonomy]:
    with DATA_FILE.open(encoding="utf-8", newline="") as fh:
        return {row["code"]: Taxonomy(**row) for row in csv.DictReader(fh)}


def lookup(code: str) -> Taxonomy | None:
    return codes().get(code.upper())


def is_code_shaped(value: str) -> bool:
    return bool(CODE_SHAPE.fullmatch(value.upper()))
