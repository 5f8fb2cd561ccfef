"""Settings: `config.yaml`, then `TASKTALK_<SECTION>__<KEY>` environment overrides, then
command-line flags. Parsed once into frozen dataclasses; `${NAME}` and `${NAME:-default}`
placeholders pull secrets from the environment so the committed file holds none.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, get_type_hints

import yaml

ENV_PREFIX = "TASKTALK_"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class SettingsError(Exception):
    """A setting that is missing, unknown or of the wrong type; the message says which."""


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    max_body_bytes: int = 1_048_576
    allowed_origins: tuple[str, ...] = ()


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite+aiosqlite:///./var/tasktalk.db"
    sqlite_synchronous: str = "FULL"
    pool_size: int = 5


@dataclass(frozen=True)
class AuthSettings:
    token_cache_seconds: float = 30.0


@dataclass(frozen=True)
class WebSocketSettings:
    heartbeat_seconds: float = 30.0
    max_message_bytes: int = 65_536
    send_queue_events: int = 10_000
    poll_seconds: float = 1.0


@dataclass(frozen=True)
class LimitSettings:
    title_chars: int = 500
    steps: int = 200
    substeps: int = 100
    name_chars: int = 500
    error_chars: int = 10_000
    log_lines_per_request: int = 1_000
    log_message_chars: int = 10_000


@dataclass(frozen=True)
class JobSettings:
    slow_check_seconds: float = 30.0
    outbox_sweep_seconds: float = 15.0
    retention_check_seconds: float = 3600.0
    history_retention_days: int = 90
    outbox_retention_days: int = 7


@dataclass(frozen=True)
class NotifySettings:
    replica: str = ""
    lease_seconds: float = 60.0
    edit_interval_seconds: float = 3.0
    max_attempts: int = 8
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 600.0
    batch: int = 100
    concurrency: int = 32
    poll_seconds: float = 1.0


@dataclass(frozen=True)
class LoggingSettings:
    level: str = "INFO"


@dataclass(frozen=True)
class EmailSettings:
    """SMTP for email notifications; an empty `host` means no email channel."""

    host: str = ""
    port: int = 587
    starttls: bool = True
    username: str = ""
    password: str = field(default="", repr=False)  # never printed with the settings
    sender: str = ""
    timeout_seconds: float = 30.0
    local_hostname: str = ""


@dataclass(frozen=True)
class TelegramSettings:
    """Telegram: on when `token` (TELEGRAM_BOT_TOKEN) is set."""

    token: str = field(default="", repr=False)
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    mode: str = "polling"  # polling | webhook
    webhook_url: str = ""
    webhook_path: str = "/telegram/webhook"
    webhook_secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class SlackSettings:
    """Slack: on when `bot_token` and `signing_secret` are set (or `app_token` for Socket
    Mode)."""

    bot_token: str = field(default="", repr=False)
    signing_secret: str = field(default="", repr=False)
    app_token: str = field(default="", repr=False)
    socket_mode: bool = False
    api_url: str = "https://slack.com/api/"
    events_path: str = "/slack/events"


@dataclass(frozen=True)
class RasaSettings:
    """Rasa custom actions: on when `token` (RASA_ACTION_TOKEN) is set."""

    token: str = field(default="", repr=False)
    webhook_path: str = "/rasa/webhook"
    max_body_bytes: int = 16 * 1024 * 1024


@dataclass(frozen=True)
class ChannelSettings:
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    slack: SlackSettings = field(default_factory=SlackSettings)
    rasa: RasaSettings = field(default_factory=RasaSettings)
    #: Identities linked in configuration, "channel:external_id=user", e.g.
    #: "telegram:123456789=alice" or "slack:T0123:U0456=bob".
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    websocket: WebSocketSettings = field(default_factory=WebSocketSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    jobs: JobSettings = field(default_factory=JobSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    channels: ChannelSettings = field(default_factory=ChannelSettings)


def load_settings(
    path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build settings from a YAML file (optional), the environment and explicit overrides.

    `overrides` uses dotted keys: {"database.url": "...", "server.port": 9000}.
    """
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise SettingsError(f"Config file {file} does not exist.")
        loaded = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise SettingsError(f"Config file {file} must hold a mapping of sections.")
        raw = _expand(loaded, environ, where=str(file))
    for name, value in environ.items():
        if name.startswith(ENV_PREFIX) and "__" in name:
            keys = name[len(ENV_PREFIX) :].lower().split("__")
            _set(raw, keys, value, name)  # text as given: a password "0123" stays "0123"
    for dotted, value in (overrides or {}).items():
        if value is not None:
            _set(raw, dotted.split("."), value, dotted)
    settings: Settings = _build(Settings, raw, "")
    return settings


def _expand(value: Any, environ: Mapping[str, str], where: str) -> Any:
    if isinstance(value, dict):
        return {k: _expand(v, environ, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, environ, where) for v in value]
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in environ:
                return environ[name]
            if default is not None:
                return default
            return ""

        return _PLACEHOLDER.sub(substitute, value)
    return value


def _set(raw: dict[str, Any], keys: list[str], value: Any, source: str) -> None:
    node = raw
    for key in keys[:-1]:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise SettingsError(f"{source}: {key} is not a section.")
        node = child
    node[keys[-1]] = value


def _build(cls: type[Any], raw: Any, prefix: str) -> Any:
    if not isinstance(raw, dict):
        raise SettingsError(f"Setting {prefix.rstrip('.') or 'root'} must be a mapping.")
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise SettingsError(
            f"Unknown setting {prefix}{unknown[0]}; known keys here: {', '.join(sorted(known))}."
        )
    instance = cls()
    values: dict[str, Any] = {}
    for name, value in raw.items():
        hint = hints[name]
        current = getattr(instance, name)
        if is_dataclass(current):
            values[name] = _build(type(current), value, f"{prefix}{name}.")
        else:
            values[name] = _coerce(value, hint, f"{prefix}{name}")
    return replace(instance, **values)


def _coerce(value: Any, hint: Any, name: str) -> Any:
    text = hint.__name__ if isinstance(hint, type) else str(hint)
    try:
        if hint is int:
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if hint is float:
            return float(value)
        if hint is bool:
            if isinstance(value, bool):
                return value
            return str(value).strip().lower() in ("1", "true", "yes", "on")
        if text.startswith("tuple"):
            if isinstance(value, str) and value.strip().startswith("["):
                value = yaml.safe_load(value)  # a YAML list from the environment
            elif isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            return tuple(str(v) for v in value or ())
        return str(value)
    except (TypeError, ValueError):
        raise SettingsError(f"Setting {name} must be {text}, not {value!r}.") from None
