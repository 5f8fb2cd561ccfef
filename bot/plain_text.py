"""Plain-text Jinja2 templates from the `templates` package: terminal output and plain chat.

Templates own the words; Python hands them data. `fit` and `boxed` are the layout filters
that know about display width, so wide characters never push a border out of line.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

import templates
from bot.text_width import clip, pad


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(templates.__file__).parent),
        autoescape=False,  # plain text for terminals and chat, never HTML
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["clip"] = clip
    env.filters["fit"] = pad
    env.filters["boxed"] = boxed
    return env


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)


def boxed(text: str, width: int, margin: int = 2) -> str:
    """Draw a `width`-column box around `text`'s lines, each padded or clipped to fit."""
    inner = width - 2
    room = inner - margin - 1
    lines = text.rstrip("\n").split("\n")
    body = [f"│{' ' * margin}{pad(line, room)} │" for line in lines]
    return "\n".join([f"┌{'─' * inner}┐", *body, f"└{'─' * inner}┘"])
