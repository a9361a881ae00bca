"""Who a Slack user is: display name and timezone from ``users.info``, cached."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.sender import NETWORK, error_code
from adapters.slack.translate import actor_from_profile
from bot.core.ports import Actor

log = logging.getLogger(__name__)


class People:
    """`users.info`, cached per workspace and user for `ttl` seconds (names and timezones change
    rarely, and the Web API is rate limited). A member's own `/retro tz` still wins: the engine
    keeps the platform's timezone apart from the one the member chose."""

    def __init__(
        self, ttl: float = 3600, size: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self._cache: OrderedDict[tuple[str, str], tuple[float, Actor]] = OrderedDict()

    async def actor(self, client: AsyncWebClient, team_id: str, user_id: str, handle: str) -> Actor:
        key = (team_id, user_id)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self.clock():
            return cached[1]
        try:
            response = await client.users_info(user=user_id)
        except SlackApiError as error:
            log.warning("slack: users.info failed (%s); using the handle", error_code(error))
            return actor_from_profile(None, user_id, handle)
        except NETWORK as error:
            log.warning("slack: users.info failed (%s); using the handle", type(error).__name__)
            return actor_from_profile(None, user_id, handle)
        actor = actor_from_profile(response.get("user"), user_id, handle)
        self._cache[key] = (self.clock() + self.ttl, actor)
        self._cache.move_to_end(key)
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return actor
