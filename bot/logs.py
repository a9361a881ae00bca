"""Logging set-up. Our own log lines never carry user text or an anonymous author; these
third-party loggers would, at DEBUG, so they are held at a level where they don't."""

from __future__ import annotations

import logging
import sys

PAYLOAD_LOGGERS = {
    # Database drivers log every statement with its parameters (names, typed text) at DEBUG.
    "aiosqlite": logging.WARNING,
    "asyncpg": logging.WARNING,
    "sqlalchemy.engine": logging.WARNING,
    # The platform SDKs dump request and gateway payloads at DEBUG.
    "slack_bolt": logging.INFO,
    "slack_sdk": logging.INFO,
    "discord": logging.INFO,
    # Not payloads, but noise: the scheduler heartbeat logs two lines per beat at INFO, and
    # Alembic two lines of its set-up per migration context (`prepare_database` says what changed).
    "apscheduler": logging.WARNING,
    "alembic": logging.WARNING,
}


def quiet_payload_loggers() -> None:
    """Hold these loggers at their level here, or at the root's when that is quieter: the levels
    are floors, so `RETRO_LOG_LEVEL=WARNING` silences discord.py's INFO lines too."""
    root = logging.getLogger().getEffectiveLevel()
    for name, level in PAYLOAD_LOGGERS.items():
        logging.getLogger(name).setLevel(max(level, root))


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    quiet_payload_loggers()
