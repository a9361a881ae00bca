"""Fixtures for the scheduling tests: a keyed fake sender, a ticker and the `Bot` harness."""

from __future__ import annotations

import pytest

from adapters.fake import FakeChat, FakeSender, ManualClock
from bot.app import build_ticker
from bot.scheduling.tick import Ticker
from bot.settings import Settings
from bot.storage.database import Database
from tests.scheduling.helpers import Bot


@pytest.fixture
def sender() -> FakeSender:
    return FakeSender()


@pytest.fixture
def ticker(settings: Settings, database: Database, clock: ManualClock, sender: FakeSender) -> Ticker:
    return build_ticker(settings, database, clock, {sender.platform: sender})


@pytest.fixture
def bot(chat: FakeChat, clock: ManualClock, sender: FakeSender, ticker: Ticker, database: Database) -> Bot:
    return Bot(chat, clock, sender, ticker, database)
