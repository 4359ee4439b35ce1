"""jinja2 over templates/: engine command lines, loader scripts, nginx config."""

from __future__ import annotations

import shlex
from functools import cache
from pathlib import Path

import jinja2

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        undefined=jinja2.StrictUndefined,  # a missing variable is a bug, not an empty flag
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    environment.filters["q"] = lambda value: shlex.quote(str(value))
    return environment


def render_text(template: str, **context: object) -> str:
    return _environment().get_template(template).render(**context)


def render_argv(template: str, **context: object) -> list[str]:
    """Render a command-line template and split it the way a shell would (values use `| q`)."""
    return shlex.split(render_text(template, **context), comments=True)
