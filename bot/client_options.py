"""Where client commands (`watch`, `run`, `ask`) find the server and their token.

`--server URL --token T`, else `TASKTALK_URL` / `TASKTALK_TOKEN`, else the address
`tasktalk serve` would listen on with the same settings.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from bot.plain_text import render

URL_ENV = "TASKTALK_URL"
TOKEN_ENV = "TASKTALK_TOKEN"


@dataclass(frozen=True)
class ClientOptions:
    server: str  # absolute http(s) URL without a trailing slash
    token: str


class ClientProblem(Exception):
    """What stops a client command; `kind` picks the sentence in client_problem.txt.j2."""

    def __init__(self, kind: str, **details: object) -> None:
        super().__init__(kind, details)
        self.kind = kind
        self.details = details

    @property
    def sentence(self) -> str:
        return render("client_problem.txt.j2", kind=self.kind, **self.details).strip()


def add_client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server",
        metavar="URL",
        help=f"tasktalk server (default ${URL_ENV}, else this machine's server.host:port)",
    )
    parser.add_argument(
        "--token",
        metavar="T",
        help=f"API token (default ${TOKEN_ENV}; make one with `tasktalk token create USER`)",
    )


def resolve_client_options(
    server: str | None,
    token: str | None,
    environ: Mapping[str, str],
    default_server: str,
) -> ClientOptions:
    """Flags first, then the environment, then `default_server`; a token is required."""
    url = normalise_server(server or environ.get(URL_ENV) or default_server)
    secret = (token or environ.get(TOKEN_ENV) or "").strip()
    if not secret:
        raise ClientProblem("no_token")
    return ClientOptions(url, secret)


def normalise_server(raw: str) -> str:
    """`localhost:8080` -> `http://localhost:8080`; refuses anything but http(s) URLs."""
    text = raw.strip()
    if "://" not in text:
        text = f"http://{text}"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ClientProblem("bad_server", value=raw)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def local_server(host: str, port: int) -> str:
    """The URL a client on this machine uses for a server bound to `host:port`."""
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"
