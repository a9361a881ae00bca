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
from dataclasses import dataclass, field, replace
from datetime import time, timedelta
from pathlib import Path
from typing import Any

from bot.core.model import WeeklyTime, WorkingHours
from bot.core.timeutil import parse_duration, parse_hours, parse_weekdays, parse_weekly, valid_timezone

DEFAULT_RETRO_ROUND = WeeklyTime(4, time(15, 0))
"""Friday 15:00, team time."""
DEFAULT_DIGEST = WeeklyTime(0, time(9, 0))
"""Monday 09:00, team time."""


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


def _weekly_or_off(value: Any) -> WeeklyTime | None:
    text = _str(value)
    return None if text.lower() == "off" else parse_weekly(text)


def _weekdays(value: Any) -> frozenset[int]:
    return parse_weekdays(",".join(map(str, value)) if isinstance(value, list) else _str(value))


def _duration(value: Any) -> timedelta:
    return parse_duration(str(value))


def _positive_duration(value: Any) -> timedelta:
    duration = _duration(value)
    if duration <= timedelta(0):
        raise ValueError("expected a duration above zero, like 30s")
    return duration


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
    Setting(
        "weekdays",
        "RETRO_WEEKDAYS",
        _weekdays,
        frozenset(range(5)),
        "Working days: prompts to members go out only on these, like mon-fri or sun-thu.",
    ),
    Setting(
        "check_after_days",
        "RETRO_CHECK_AFTER_DAYS",
        _positive_int,
        14,
        "Days after a lesson before the follow-up check asks whether it stuck.",
    ),
    Setting(
        "check_answer_days",
        "RETRO_CHECK_ANSWER_DAYS",
        _positive_int,
        7,
        "Days a check waits for an answer; then its window closes (no recurrence: learning).",
    ),
    Setting(
        "max_prompts_per_week",
        "RETRO_MAX_PROMPTS_PER_WEEK",
        _positive_int,
        3,
        "Most private messages the bot starts with one member in 7 days; more are bundled into one.",
    ),
    Setting(
        "retro_round",
        "RETRO_RETRO_ROUND",
        _weekly_or_off,
        DEFAULT_RETRO_ROUND,
        "Default weekly retro round in team time, like fri 15:00, or off.",
    ),
    Setting(
        "digest",
        "RETRO_DIGEST",
        _weekly_or_off,
        DEFAULT_DIGEST,
        "Default weekly digest in team time, like mon 09:00, or off.",
    ),
    Setting(
        "grace_period",
        "RETRO_GRACE_PERIOD",
        _duration,
        timedelta(hours=6),
        "After downtime, items at most this late are sent once; later ones are marked missed.",
    ),
    Setting(
        "tick_interval",
        "RETRO_TICK_INTERVAL",
        _positive_duration,
        timedelta(seconds=15),
        "How often each process looks for due items, like 15s.",
    ),
    Setting(
        "claim_lease",
        "RETRO_CLAIM_LEASE",
        _positive_duration,
        timedelta(minutes=2),
        "How long a tick owns the items it claimed; a crashed process's items are retried after it. "
        "Keep it short: Discord drops a repeated message by its nonce for only a few minutes.",
    ),
    Setting(
        "demo",
        "RETRO_DEMO",
        _bool,
        False,
        "Demo pace for trying the bot out (`make run`): cool-downs of minutes, any time of day.",
    ),
    Setting(
        "matcher",
        "RETRO_MATCHER",
        _str,
        "lexical",
        "How repeats are spotted: lexical (default), embedding or mpnet (README: Spotting repeats).",
    ),
    Setting("log_level", "RETRO_LOG_LEVEL", _str, "INFO", "DEBUG, INFO, WARNING or ERROR."),
    Setting(
        "http_port", "RETRO_HTTP_PORT", _port, 3000, "Port of the HTTP endpoint (Slack events in HTTP mode)."
    ),
    Setting(
        "http_host",
        "RETRO_HTTP_HOST",
        _str,
        "0.0.0.0",
        "Address the HTTP endpoint listens on (127.0.0.1 behind a local proxy).",
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
    Setting(
        "slack_client_id",
        "SLACK_CLIENT_ID",
        _str,
        None,
        "Slack app client id: with the client secret, workspaces install the app through OAuth.",
    ),
    Setting("slack_client_secret", "SLACK_CLIENT_SECRET", _secret, None, "Slack app client secret (OAuth)."),
    Setting(
        "slack_redirect_uri",
        "SLACK_REDIRECT_URI",
        _str,
        None,
        "OAuth redirect URL registered with Slack, e.g. https://retro.example.com/slack/oauth_redirect.",
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
    weekdays: frozenset[int] = frozenset(range(5))
    check_after_days: int = 14
    check_answer_days: int = 7
    max_prompts_per_week: int = 3
    retro_round: WeeklyTime | None = DEFAULT_RETRO_ROUND
    digest: WeeklyTime | None = DEFAULT_DIGEST
    grace_period: timedelta = timedelta(hours=6)
    tick_interval: timedelta = timedelta(seconds=15)
    claim_lease: timedelta = timedelta(minutes=2)
    demo: bool = False
    matcher: str = "lexical"
    log_level: str = "INFO"
    http_port: int = 3000
    http_host: str = "0.0.0.0"
    export_dir: str | None = None
    slack_bot_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_app_token: Secret | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_client_id: str | None = None
    slack_client_secret: Secret | None = None
    slack_redirect_uri: str | None = None
    discord_bot_token: Secret | None = None
    discord_api_url: str = "https://discord.com/api/v10"
    discord_dev_guilds: tuple[str, ...] = ()
    config_file: str | None = None

    def without_platforms(self) -> Settings:
        """These settings with no Slack or Discord: for the terminal chat, which talks to nobody else."""
        return replace(
            self, slack_bot_token=None, slack_app_token=None, slack_client_id=None, discord_bot_token=None
        )

    @property
    def slack_enabled(self) -> bool:
        return any(t is not None for t in (self.slack_bot_token, self.slack_app_token, self.slack_client_id))

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
