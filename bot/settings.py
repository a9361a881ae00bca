"""Settings: environment variables (``RETRO_*`` and the platforms' usual token names) over an
optional TOML file, over defaults. Every setting is declared once in `SETTINGS`; the example file
`config/retro.example.toml` documents the same list (a test keeps the two in step).

A missing or malformed setting stops start-up with one clear line (`SettingsError`), never a
traceback, and never echoes a secret's value.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

from bot.core.model import WorkingHours
from bot.core.timeutil import valid_timezone


class SettingsError(Exception):
    """One line telling the person which setting is wrong and what would be right."""


class Secret:
    """A token or password. Its repr and str never show the value; `reveal()` does."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "retro"


def default_config_file(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "retro" / "retro.toml"


# -- value parsers: each takes the raw value (str from the environment, or a TOML value) ------


def _str(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected non-empty text")
    return value.strip()


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a whole number")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError("expected a whole number") from None


def _positive_int(value: Any) -> int:
    number = _int(value)
    if number < 1:
        raise ValueError("expected a whole number of at least 1")
    return number


def _port(value: Any) -> int:
    number = _int(value)
    if not 0 <= number <= 65535:
        raise ValueError("expected a port number between 0 and 65535")
    return number


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError("expected a number") from None


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true or false")


def _timezone(value: Any) -> str:
    name = _str(value)
    if not valid_timezone(name):
        raise ValueError(f"unknown timezone {name[:40]!r}; use an IANA name such as Europe/Berlin")
    return name


def parse_clock_time(text: str) -> time:
    hours, _, minutes = text.strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError("expected a time like 09:00")
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError("expected a time like 09:00")
    return time(h, m)


def parse_hours(text: str) -> WorkingHours:
    start, sep, end = text.strip().partition("-")
    if not sep:
        raise ValueError("expected working hours like 09:00-17:00")
    hours = WorkingHours(parse_clock_time(start), parse_clock_time(end))
    if hours.start >= hours.end:
        raise ValueError("working hours must start before they end, like 09:00-17:00")
    return hours


def _hours(value: Any) -> WorkingHours:
    return parse_hours(_str(value))


def _secret(value: Any) -> Secret:
    return Secret(_str(value))


def _list(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(part.strip() for part in str(value).split(",") if part.strip())


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    """Attribute on `Settings` and key in the TOML file."""
    env: str
    parse: Callable[[Any], Any]
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "database_url",
        "RETRO_DATABASE_URL",
        _str,
        None,
        "SQLAlchemy URL. Default: SQLite in ~/.local/share/retro/retro.db. "
        "PostgreSQL: postgresql+asyncpg://user@host/db",
    ),
    Setting(
        "timezone",
        "RETRO_TIMEZONE",
        _timezone,
        "UTC",
        "Default IANA timezone for new teams and for members whose platform does not say.",
    ),
    Setting(
        "working_hours",
        "RETRO_WORKING_HOURS",
        _hours,
        WorkingHours(),
        "Default working hours for members, like 09:00-17:00.",
    ),
    Setting("matcher", "RETRO_MATCHER", _str, "lexical", "How repeats are spotted: lexical (default)."),
    Setting("log_level", "RETRO_LOG_LEVEL", _str, "INFO", "DEBUG, INFO, WARNING or ERROR."),
    Setting(
        "http_port", "RETRO_HTTP_PORT", _port, 3000, "Port of the HTTP endpoint (Slack events in HTTP mode)."
    ),
    Setting(
        "export_dir",
        "RETRO_EXPORT_DIR",
        _str,
        None,
        "Where the terminal chat writes exports and charts. Default: the data directory.",
    ),
    Setting("slack_bot_token", "SLACK_BOT_TOKEN", _secret, None, "Slack bot token (xoxb-...)."),
    Setting(
        "slack_signing_secret",
        "SLACK_SIGNING_SECRET",
        _secret,
        None,
        "Slack signing secret, to verify requests in HTTP mode.",
    ),
    Setting(
        "slack_app_token",
        "SLACK_APP_TOKEN",
        _secret,
        None,
        "Slack app-level token (xapp-...): when set, Socket Mode is used.",
    ),
    Setting(
        "slack_api_url",
        "SLACK_API_URL",
        _str,
        "https://slack.com/api/",
        "Slack Web API base URL (tests and proxies).",
    ),
    Setting("discord_bot_token", "DISCORD_BOT_TOKEN", _secret, None, "Discord bot token."),
    Setting(
        "discord_api_url",
        "DISCORD_API_URL",
        _str,
        "https://discord.com/api/v10",
        "Discord REST base URL (tests and proxies).",
    ),
    Setting(
        "discord_dev_guilds",
        "RETRO_DISCORD_DEV_GUILDS",
        _list,
        (),
        "Guild ids to sync commands to instantly (development); empty syncs globally.",
    ),
)


@dataclass(frozen=True)
class Settings:
    database_url: str
    timezone: str = "UTC"
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    matcher: str = "lexical"
    log_level: str = "INFO"
    http_port: int = 3000
    export_dir: str | None = None
    slack_bot_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_app_token: Secret | None = None
    slack_api_url: str = "https://slack.com/api/"
    discord_bot_token: Secret | None = None
    discord_api_url: str = "https://discord.com/api/v10"
    discord_dev_guilds: tuple[str, ...] = ()
    config_file: str | None = None

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None or self.slack_app_token is not None

    @property
    def discord_enabled(self) -> bool:
        return self.discord_bot_token is not None

    @property
    def data_dir(self) -> Path:
        return default_data_dir()

    @property
    def export_path(self) -> Path:
        return Path(self.export_dir).expanduser() if self.export_dir else self.data_dir / "exports"


def load_settings(
    environ: Mapping[str, str] | None = None, config_file: str | Path | None = None
) -> Settings:
    """Settings from the environment over the TOML file (``RETRO_CONFIG`` or the default path)."""
    environ = os.environ if environ is None else environ
    path = Path(config_file or environ.get("RETRO_CONFIG") or default_config_file(environ)).expanduser()
    explicit = bool(config_file or environ.get("RETRO_CONFIG"))
    from_file = _read_toml(path, required=explicit)
    known = {s.name for s in SETTINGS}
    unknown = sorted(set(from_file) - known)
    if unknown:
        raise SettingsError(f"{path}: unknown setting {unknown[0]!r}; see config/retro.example.toml")
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw, source = environ.get(setting.env), setting.env
        if raw is None or raw == "":
            raw, source = from_file.get(setting.name), f"{setting.name} in {path}"
        if raw is None:
            values[setting.name] = setting.default
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as error:
            raise SettingsError(f"{source}: {error}") from None
    if values["database_url"] is None:
        values["database_url"] = f"sqlite+aiosqlite:///{default_data_dir(environ) / 'retro.db'}"
    return Settings(**values, config_file=str(path) if from_file else None)


def _read_toml(path: Path, required: bool) -> dict[str, Any]:
    if not path.exists():
        if required:
            raise SettingsError(f"config file {path} does not exist")
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"config file {path} can't be read: {error}") from None
    return data
