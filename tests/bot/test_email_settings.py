"""The `email` settings section: defaults, the password placeholder, environment overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import EmailSettings, SettingsError, load_settings


def test_committed_config_turns_email_off_and_reads_the_password_from_the_environment(
    repo_root: Path,
) -> None:
    assert load_settings(repo_root / "config.yaml", environ={}).email == EmailSettings()
    email = load_settings(repo_root / "config.yaml", environ={"SMTP_PASSWORD": "pw#1"}).email
    assert (email.host, email.port, email.starttls, email.password) == ("", 587, True, "pw#1")


def test_environment_overrides_email_keys() -> None:
    environ = {
        "TASKTALK_EMAIL__HOST": "smtp.example.com",
        "TASKTALK_EMAIL__PORT": "2525",
        "TASKTALK_EMAIL__STARTTLS": "false",
        "TASKTALK_EMAIL__USERNAME": "tasktalk",
        "TASKTALK_EMAIL__SENDER": "tasktalk <tasktalk@example.com>",
        "TASKTALK_EMAIL__TIMEOUT_SECONDS": "7.5",
    }
    email = load_settings(None, environ=environ).email
    assert email == EmailSettings(
        host="smtp.example.com",
        port=2525,
        starttls=False,
        username="tasktalk",
        sender="tasktalk <tasktalk@example.com>",
        timeout_seconds=7.5,
    )


def test_the_password_is_never_printed_with_the_settings(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text('email:\n  password: "${SMTP_PASSWORD}"\n')
    settings = load_settings(config, environ={"SMTP_PASSWORD": "hunter2-secret"})
    assert settings.email.password == "hunter2-secret"
    assert "hunter2-secret" not in repr(settings)


def test_a_typo_in_the_email_section_is_named(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("email:\n  hots: smtp.example.com\n")
    with pytest.raises(SettingsError, match=r"Unknown setting email\.hots"):
        load_settings(config, environ={})


def test_a_password_from_the_environment_stays_exactly_as_typed() -> None:
    for secret in ("0123", "yes", "1e3", "null", "[x]"):
        settings = load_settings(None, environ={"TASKTALK_EMAIL__PASSWORD": secret})
        assert settings.email.password == secret
