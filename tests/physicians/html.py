"""Reading pages in tests: the rows of a table body as the cells' text, as a user reads them."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Row:
    attrs: dict[str, str]
    cells: list[str] = field(default_factory=list)


class _Rows(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: list[Row] = []
        self.in_body = False
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self.in_body = True
        elif self.in_body and tag == "tr":
            self.rows.append(Row({k: v or "" for k, v in attrs}))
        elif self.in_body and tag == "td":
            self.cell = []
        elif self.cell is not None:
            self.cell.append(" ")  # an element inside a cell separates words (a block, a badge)

    def handle_endtag(self, tag):
        if tag == "tbody":
            self.in_body = False
        elif tag == "td" and self.cell is not None:
            self.rows[-1].cells.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif self.cell is not None:
            self.cell.append(" ")

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def body_rows(html: str) -> list[Row]:
    """Every <tr> of every <tbody>, with its attributes and each cell's text (entities decoded,
    whitespace collapsed, elements apart by a space)."""
    parser = _Rows()
    parser.feed(html)
    return parser.rows


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Element(HTMLParser):
    def __init__(self, element_id: str):
        super().__init__(convert_charrefs=False)
        self.element_id = element_id
        self.depth = 0
        self.start: tuple[int, int] | None = None
        self.end: tuple[int, int] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in VOID or self.end is not None:
            return
        if self.start is None:
            if dict(attrs).get("id") == self.element_id:
                self.start = self.getpos()
                self.depth = 1
        else:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in VOID or self.start is None or self.end is not None:
            return
        self.depth -= 1
        if self.depth == 0:
            line, col = self.getpos()
            self.end = (line, col + len(f"</{tag}>"))


def element(html: str, element_id: str) -> str:
    """The markup of the element with this id, from its start tag to its end tag."""
    parser = _Element(element_id)
    parser.feed(html)
    assert parser.start is not None and parser.end is not None, f"no complete #{element_id}"
    lines = html.splitlines(keepends=True)

    def offset(pos: tuple[int, int]) -> int:
        return sum(len(line) for line in lines[: pos[0] - 1]) + pos[1]

    return html[offset(parser.start) : offset(parser.end)]
