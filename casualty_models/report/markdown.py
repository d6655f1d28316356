"""The report as Markdown: the same document as the HTML page, without the plots.

All text is escaped: no live HTML, no emphasis or links the user's text did not ask
for, and a ``|`` in a cell cannot split a table row. Only plain ``http(s)`` URLs
become autolinks.
"""

from __future__ import annotations

import html
import re
from typing import Any

from casualty_models.report.document import Block, Document, Paragraph, Section
from casualty_models.report.figures import Figure
from casualty_models.report.tables import Table

_SPECIAL = re.compile(r"([\\`*_\[\]{}|~#!])")
_AUTOLINK = re.compile(r"^https?://[^\s<>\"'`|\\]+$", re.IGNORECASE)


def escape(x: Any) -> str:
    """Escape text for a Markdown table cell or paragraph: no live HTML, no markup."""
    text = html.escape("" if x is None else str(x), quote=False)
    text = _SPECIAL.sub(r"\\\1", text)
    return " ".join(text.split())  # newlines would break a table row


def url(text: Any) -> str:
    """An autolink for a plain http(s) URL, escaped text otherwise."""
    s = ("" if text is None else str(text)).strip()
    return f"<{s}>" if _AUTOLINK.match(s) else escape(s)


def table(t: Table) -> str:
    lines = [
        "| " + " | ".join(escape(h) for h in t.headers) + " |",
        "|" + "|".join("---:" if j in t.numeric else "---" for j in range(len(t.headers))) + "|",
    ]
    for row in t.rows:
        cells = [url(v) if j in t.links else escape(v) for j, v in enumerate(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _paragraph(p: Paragraph) -> str:
    text = escape(p.text)
    if p.lead:
        text = f"**{escape(p.lead)}** {text}"
    return f"> {text}" if p.style in ("note", "bad") else text


def _blocks(blocks: tuple[Block, ...], depth: int) -> list[str]:
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Paragraph):
            out += [_paragraph(b), ""]
        elif isinstance(b, Table):
            out += [table(b), ""]
        elif isinstance(b, Section):
            out += _section(b, depth + 1)
        elif isinstance(b, Figure):
            continue  # Markdown reports carry no plots
    return out


def _section(s: Section, depth: int) -> list[str]:
    body = _blocks(s.blocks, depth)
    if not body:  # a section of plots only
        return []
    head = [f"{'#' * min(depth, 6)} {escape(s.title)}", ""] if s.title else []
    return head + body


def render(doc: Document) -> str:
    """The document as Markdown text."""
    out: list[str] = []
    for k, s in enumerate(doc.sections):
        out += _section(s, 1 if k == 0 else 2)
    out += [escape(doc.footer), ""]
    return "\n".join(out)
