"""The third-party loggers that would print payloads are held quiet, and never louder than asked."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.logs import PAYLOAD_LOGGERS, quiet_payload_loggers


@pytest.fixture
def root_level() -> Iterator[None]:
    root = logging.getLogger()
    saved = {name: logging.getLogger(name).level for name in ("", *PAYLOAD_LOGGERS)}
    # Unset, as in a fresh process: an earlier test's call must not make these pass on its own.
    for name in PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    yield
    root.setLevel(saved.pop(""))
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.usefixtures("root_level")
def test_payload_loggers_stay_quiet_when_the_bot_logs_at_debug() -> None:
    logging.getLogger().setLevel(logging.DEBUG)
    quiet_payload_loggers()
    assert not logging.getLogger("sqlalchemy.engine").isEnabledFor(logging.INFO)
    assert not logging.getLogger("discord").isEnabledFor(logging.DEBUG)


@pytest.mark.usefixtures("root_level")
def test_a_quieter_log_level_also_quiets_the_platform_libraries() -> None:
    logging.getLogger().setLevel(logging.WARNING)
    quiet_payload_loggers()
    assert not logging.getLogger("discord").isEnabledFor(logging.INFO)
    assert not logging.getLogger("slack_bolt").isEnabledFor(logging.INFO)
