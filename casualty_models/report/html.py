"""The report as one self-contained HTML page, from a jinja2 template.

The environment escapes every value a template prints (``autoescape=True``; its
``finalize`` escapes with :func:`html.escape`, quotes included, so text is safe in an
attribute as in an element). Only ``http://`` and ``https://`` URLs become links.
The page loads nothing from outside: no scripts, fonts or stylesheets; the plots are
inline PNGs, the main figure inline SVG with the package's own short script.
"""

from __future__ import annotations

import functools
import html
from typing import Any

import jinja2
from markupsafe import Markup

from casualty_models._version import __version__
from casualty_models.report.document import Document


def escape(x: Any) -> Markup:
    """Anything as HTML text, safe in an element or a quoted attribute value."""
    if isinstance(x, Markup):
        return x
    return Markup(html.escape("" if x is None else str(x), quote=True))


def is_web_url(url: Any) -> bool:
    return isinstance(url, str) and url.strip().lower().startswith(("http://", "https://"))


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("casualty_models.report", "templates"),
        autoescape=True,
        finalize=escape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.tests["web_url"] = is_web_url
    return env


def link(url: str) -> Markup:
    """A URL as a link when it is http(s), else as plain (escaped) text."""
    out: Markup = environment().get_template("macros.html.j2").module.link(url)  # type: ignore[attr-defined]
    return out


def render(doc: Document) -> str:
    """The document as an HTML page."""
    page = environment().get_template("report.html.j2").render(doc=doc, version=__version__)
    return page.lstrip()
