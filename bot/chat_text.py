"""Chat text in each channel's format: plain, Slack mrkdwn, Telegram HTML and email HTML.

One template per message (`templates/chat/*.j2`) serves every format: the template marks
emphasis with `bold()`, `code()` and `{% call pre() %}` blocks, and every value it prints
is escaped for the format by the environment itself, so a title like `<!channel> <b>x</b>`
stays literal text and no template can forget to escape.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

import templates
from bot.wording import present_participle


class Format(StrEnum):
    PLAIN = "plain"
    SLACK = "slack"  # mrkdwn
    TELEGRAM = "telegram"  # parse_mode=HTML
    EMAIL = "email"  # an HTML fragment; newlines become <br>


def slack_escape(text: str) -> str:
    """Slack's three control characters; keeps `<!channel>` from pinging anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def html_escape(text: str) -> str:
    return html.escape(text, quote=False)


_ESCAPE: dict[Format, Callable[[str], str]] = {
    Format.PLAIN: lambda text: text,
    Format.SLACK: slack_escape,
    Format.TELEGRAM: html_escape,
    Format.EMAIL: html_escape,
}
_BOLD = {
    Format.PLAIN: "{}",
    Format.SLACK: "*{}*",
    Format.TELEGRAM: "<b>{}</b>",
    Format.EMAIL: "<strong>{}</strong>",
}
_CODE = {
    Format.PLAIN: "{}",
    Format.SLACK: "`{}`",
    Format.TELEGRAM: "<code>{}</code>",
    Format.EMAIL: "<code>{}</code>",
}

#: Preformatted blocks (log lines): the block's values are escaped before it is wrapped.
_PRE = {
    Format.PLAIN: "{}",
    Format.SLACK: "```\n{}\n```",
    Format.TELEGRAM: "<pre>{}</pre>",
    Format.EMAIL: "<code>{}</code>",
}


def render(name: str, fmt: Format, /, **data: Any) -> str:
    """Render `templates/chat/<name>.j2` for `fmt`; values in `data` are escaped for it."""
    text = _environment(fmt).get_template(f"chat/{name}.j2").render(**data).strip("\n")
    if fmt is Format.EMAIL:
        text = text.replace("\n", "<br>\n")
    return text


@cache
def _environment(fmt: Format) -> jinja2.Environment:
    escape = _ESCAPE[fmt]

    def finalize(value: Any) -> Markup:
        if isinstance(value, Markup):
            return value
        return Markup(escape("" if value is None else str(value)))

    def wrap(pattern: str) -> Callable[[Any], Markup]:
        return lambda value: Markup(pattern.format(finalize(value)))

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(templates.__file__).parent),
        # `finalize` escapes per format and marks the result safe; autoescape only makes
        # macro and block output count as already escaped, so nothing is escaped twice.
        autoescape=True,
        finalize=finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def pre(caller: Callable[[], str]) -> Markup:
        """`{% call pre() %}...{% endcall %}`: the block, already escaped, kept verbatim."""
        return Markup(_PRE[fmt].format(caller().strip("\n")))

    env.globals.update(bold=wrap(_BOLD[fmt]), code=wrap(_CODE[fmt]), pre=pre, format=fmt.value)
    env.filters.update(ing=present_participle)
    return env
