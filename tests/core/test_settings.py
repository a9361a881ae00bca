"""Settings: environment over file over defaults, and one clear line when something is wrong."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from bot.core.model import WorkingHours
from bot.settings import SETTINGS, Secret, Settings, SettingsError
from bot.settings import load_settings as load_from


def load_settings(environ: dict[str, str], config_file: Path | None = None) -> Settings:
    """Settings from `environ` only: a missing home config must not leak into the tests."""
    return load_from({"XDG_CONFIG_HOME": "/nonexistent", **environ}, config_file=config_file)


EXAMPLE = Path(__file__).parents[2] / "config" / "retro.example.toml"


def test_defaults_need_no_configuration(tmp_path: Path) -> None:
    settings = load_settings({"XDG_DATA_HOME": str(tmp_path)})
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path}/retro/retro.db"
    assert settings.timezone == "UTC"
    assert settings.working_hours == WorkingHours()
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert not settings.slack_enabled
    assert not settings.discord_enabled


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    config = tmp_path / "retro.toml"
    config.write_text('timezone = "Asia/Kolkata"\nworking_hours = "10:00-18:30"\n')
    settings = load_settings({"RETRO_TIMEZONE": "Europe/Berlin"}, config_file=config)
    assert settings.timezone == "Europe/Berlin"
    assert str(settings.working_hours) == "10:00-18:30"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"RETRO_TIMEZONE": "Mars/Olympus"}, "RETRO_TIMEZONE: unknown timezone"),
        ({"RETRO_WORKING_HOURS": "17:00-09:00"}, "RETRO_WORKING_HOURS: working hours must start before"),
        ({"RETRO_WORKING_HOURS": "nine to five"}, "RETRO_WORKING_HOURS: expected"),
        ({"RETRO_HTTP_PORT": "http"}, "RETRO_HTTP_PORT: expected a whole number"),
        ({"RETRO_HTTP_PORT": "99999"}, "RETRO_HTTP_PORT: expected a port number"),
    ],
)
def test_a_malformed_setting_is_one_clear_line(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(environ)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_a_broken_config_file_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "retro.toml"
    config.write_text("timezone = \n")
    with pytest.raises(SettingsError, match=r"retro\.toml can't be read"):
        load_settings({}, config_file=config)


def test_an_unknown_key_in_the_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "retro.toml"
    config.write_text('timezon = "UTC"\n')
    with pytest.raises(SettingsError, match="unknown setting 'timezon'"):
        load_settings({}, config_file=config)


def test_a_named_config_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings({"RETRO_CONFIG": str(tmp_path / "missing.toml")})


def test_secrets_never_show_in_repr_or_errors() -> None:
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-very-secret"})
    assert settings.slack_bot_token == Secret("xoxb-very-secret")
    assert "xoxb-very-secret" not in repr(settings)
    assert "xoxb-very-secret" not in str(settings)
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.reveal() == "xoxb-very-secret"


def test_every_setting_is_a_settings_field_with_the_same_default() -> None:
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    for setting in SETTINGS:
        assert setting.name in fields, setting.name
        field = fields[setting.name]
        default = (
            field.default_factory() if field.default_factory is not dataclasses.MISSING else field.default
        )
        if setting.name != "database_url":
            assert default == setting.default, setting.name


def test_the_example_file_documents_every_setting_with_its_variable() -> None:
    text = EXAMPLE.read_text()
    for setting in SETTINGS:
        assert re.search(rf"^# {setting.name} = ", text, re.MULTILINE), f"{setting.name} missing in example"
        assert setting.env in text, f"{setting.env} missing in example"


def test_weekdays_in_the_file_may_be_a_list_and_a_wrong_one_is_one_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "retro.toml"
    config.write_text('weekdays = ["mon", "wed-thu"]\n')
    assert load_settings({}, config_file=config).weekdays == frozenset({0, 2, 3})
    config.write_text("weekdays = [1, 2]\n")
    with pytest.raises(SettingsError, match=r"^weekdays in .*retro\.toml: "):
        load_settings({}, config_file=config)
