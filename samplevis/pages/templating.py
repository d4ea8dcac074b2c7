"""The pages' templates (templates/), rendered autoescaped: every value a template shows is
HTML-escaped unless it is markup already (a macro's output, `script_json`'s JSON)."""

from __future__ import annotations

import functools
import html
import os
import re
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from samplevis import io


def _escaped(value: object) -> Markup:
    """`value` as HTML: markup as it is, anything else escaped by the standard library, whose
    entities the pages have always had (&quot; and &#x27;, where markupsafe writes &#34; and
    &#39;). Autoescaping leaves the Markup returned as it is."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value)))


def _script_json(value: object) -> Markup:
    """`value` as JSON to put in a <script> element. A script's text is not HTML, so it is not
    escaped; but "</" is written "<\\/" (the same string to JSON), so that no string in it can
    end the element."""
    return Markup(io.json_text(value).replace("</", "<\\/"))


@functools.cache
def environment() -> Environment:
    """The templates' environment, made once."""
    env = Environment(
        loader=PackageLoader("samplevis.pages", "templates"),
        autoescape=True,
        finalize=_escaped,
        undefined=StrictUndefined,  # a misspelt name is an error, not an empty string
        # a line holding only a tag or a comment leaves nothing in the page
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["script_json"] = _script_json
    return env


def render(template: str, **values: object) -> str:
    """The text of `template` (a file name in templates/) with `values`."""
    return environment().get_template(template).render(**values)


def write_page(path: str | os.PathLike, template: str, **values: object) -> Path:
    """Write `template` rendered with `values` to `path`, atomically, ending with a newline as
    text files do (the template's own last newline is not rendered)."""
    return io.write_bytes(path, (render(template, **values) + "\n").encode())


def scoped(css: str, scope: str) -> Markup:
    """`css` (rules without nesting or @-rules) with every selector under `scope`, a CSS
    selector, and body's rules on `scope` itself: a page's style for a block inside another
    page, which it would otherwise restyle whole."""

    def under(match: re.Match) -> str:
        selectors = [s.strip() for s in match.group(1).split(",")]
        return ",".join(scope if s == "body" else f"{scope} {s}" for s in selectors) + "{"

    return Markup(re.sub(r"([^{}]+)\{", under, css.strip()))
