"""Telegram HTML cut to its 4096-character limit without breaking tags or entities.

Lengths are counted in UTF-16 units, as Telegram counts them; a cut closes the tags that are
open and the next part reopens them, so every part is valid HTML on its own.
"""

from __future__ import annotations

import html
import re

_ATOM = re.compile(r"<[^>]*>|&#?\w+;|[^<&\s]+\s*|\s+|[<&]")
_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][\w-]*)")


def units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units): an emoji counts two."""
    return len(text.encode("utf-16-le")) // 2


def split_html(text: str, limit: int) -> list[str]:
    """Telegram HTML cut into messages of at most `limit`, at line ends where possible;
    tags open at a cut are closed before it and opened again after it."""
    if units(text) <= limit:
        return [text]
    chunks: list[str] = []
    head: tuple[str, ...] = ()  # tags open where the current chunk starts
    body: list[tuple[str, tuple[str, ...]]] = []  # (atom, tags open after it)
    used = 0
    opened: tuple[str, ...] = ()
    for atom in _atoms(text, limit // 4):
        after = _after(opened, atom)
        cost = units(atom)
        while body and used + cost + _closing(after) > limit:
            cut = _cut(body)
            chunks.append(_render(head, body[:cut]))
            head, body = body[cut - 1][1], body[cut:]
            used = sum(units(tag) for tag in head) + sum(units(a) for a, _ in body)
        if not body:
            used = sum(units(tag) for tag in head)
        body.append((atom, after))
        used += cost
        opened = after
    chunks.append(_render(head, body))
    parts = [chunk for chunk in chunks if re.sub(r"<[^>]*>", "", chunk).strip()]
    return [part if units(part) <= limit else _hard_cut(part, limit) for part in parts]


def truncate_html(text: str, limit: int) -> str:
    """One message of at most `limit`: the first part, marked as cut with an ellipsis."""
    if units(text) <= limit:
        return text
    return split_html(text, limit - 1)[0] + "…"


def _atoms(text: str, longest: int) -> list[str]:
    atoms: list[str] = []
    for atom in _ATOM.findall(text):
        if atom.startswith(("<", "&")) or len(atom) <= longest:
            atoms.append(atom)
        else:
            atoms += [atom[i : i + longest] for i in range(0, len(atom), longest)]
    return atoms


def _after(opened: tuple[str, ...], atom: str) -> tuple[str, ...]:
    match = _TAG.match(atom) if atom.startswith("<") else None
    if match is None or atom.endswith("/>"):
        return opened
    if not match.group(1):
        return (*opened, atom)
    name = match.group(2).lower()
    for depth in range(len(opened) - 1, -1, -1):
        if _name(opened[depth]) == name:
            return opened[:depth]
    return opened


def _name(tag: str) -> str:
    match = _TAG.match(tag)
    return match.group(2).lower() if match else ""


def _closing(opened: tuple[str, ...]) -> int:
    return sum(len(_name(tag)) + 3 for tag in opened)


def _render(head: tuple[str, ...], body: list[tuple[str, tuple[str, ...]]]) -> str:
    opened = body[-1][1] if body else head
    closing = "".join(f"</{_name(tag)}>" for tag in reversed(opened))
    return "".join(head) + "".join(atom for atom, _ in body) + closing


def _cut(body: list[tuple[str, tuple[str, ...]]]) -> int:
    """Where to end a full chunk: after its last line break in the second half, else its
    last space there, else at the end."""
    half = len(body) // 2
    for ending in ("\n", " "):
        for index in range(len(body) - 1, max(half, 1) - 1, -1):
            if body[index][0].endswith(ending):
                return index + 1
    return len(body)


def _hard_cut(text: str, limit: int) -> str:
    """Only for absurd nesting: drop the markup rather than send too much."""
    plain = html.escape(html.unescape(re.sub(r"<[^>]*>", "", text)), quote=False)
    while units(plain) > limit:
        plain = plain[: len(plain) - (units(plain) - limit)]
        plain = re.sub(r"&[#\w]*$", "", plain)
    return plain
