"""A griffe extension for the API reference (mkdocs.yml): the docstrings' Sphinx roles as
Markdown code.

The package's docstrings are written for reading in the source and in ``help()``, with
reStructuredText roles: :func:`fit`, :meth:`~casualty_models.Estimate.summary`. The
reference renders them as inline code, ``fit`` and ``summary`` (a ``~`` keeps the last
name only), rather than as links that would have to resolve for the strict build.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|meth|class|mod|data|attr|exc|obj|const):`(~?)([^`]+)`")


def plain(text: str) -> str:
    """``text`` with each Sphinx role as a Markdown code span."""

    def code(m: re.Match[str]) -> str:
        name = m[2].split(".")[-1] if m[1] else m[2]
        return f"`{name}`"

    return _ROLE.sub(code, text)


class SphinxRoles(griffe.Extension):
    """Rewrites every docstring's roles once the object is loaded."""

    def on_object(self, *, obj: Any, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = plain(obj.docstring.value)
