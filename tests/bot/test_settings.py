"""Settings: file, `${ENV}` placeholders, TASKTALK_<SECTION>__<KEY> overrides, fail fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


def test_committed_config_loads_and_matches_defaults(repo_root: Path) -> None:
    from_file = load_settings(repo_root / "config.yaml", environ={})
    assert from_file == load_settings(None, environ={})
    assert from_file.database.url == "sqlite+aiosqlite:///./var/tasktalk.db"
    assert from_file.server.max_body_bytes == 1_048_576


def test_environment_overrides_any_key(tmp_path: Path) -> None:
    environ = {
        "TASKTALK_DATABASE__URL": "postgresql+asyncpg://db/tasktalk",
        "TASKTALK_SERVER__PORT": "9001",
        "TASKTALK_SERVER__ALLOWED_ORIGINS": "https://a.example, https://b.example",
        "TASKTALK_WEBSOCKET__HEARTBEAT_SECONDS": "5.5",
        "UNRELATED": "x",
    }
    settings = load_settings(None, environ=environ)
    assert settings.database.url == "postgresql+asyncpg://db/tasktalk"
    assert settings.server.port == 9001
    assert settings.server.allowed_origins == ("https://a.example", "https://b.example")
    assert settings.websocket.heartbeat_seconds == 5.5


def test_placeholders_come_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "database:\n  url: postgresql+asyncpg://app:${DB_PASSWORD}@db/${DB_NAME:-tasktalk}\n"
    )
    settings = load_settings(config, environ={"DB_PASSWORD": "s3cret"})
    assert settings.database.url == "postgresql+asyncpg://app:s3cret@db/tasktalk"


def test_flags_beat_environment_beat_file(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("server:\n  port: 1000\n  host: 0.0.0.0\n")
    settings = load_settings(
        config, environ={"TASKTALK_SERVER__PORT": "2000"}, overrides={"server.port": 3000}
    )
    assert (settings.server.host, settings.server.port) == ("0.0.0.0", 3000)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("server:\n  prot: 8080\n", "Unknown setting server.prot"),
        ("databse:\n  url: x\n", "Unknown setting databse"),
        ("server:\n  port: eighty\n", "Setting server.port must be int"),
        ("- just\n- a list\n", "must hold a mapping"),
    ],
)
def test_bad_config_fails_with_a_message_naming_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(text)
    with pytest.raises(SettingsError, match=message):
        load_settings(config, environ={})


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml", environ={})
