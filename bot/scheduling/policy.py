"""The scheduling rules a deployment chose: defaults for teams and members, cool-downs, the
no-nagging cap, and the delivery timings. Built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

from bot.core.model import ItemKind, WeeklyTime, WorkingHours
from bot.settings import Settings


# The defaults that are settings are read from `Settings`, written once there: a policy built
# without settings (tests, the engine's fallback) is the one an unconfigured deployment gets.
@dataclass(frozen=True, slots=True)
class SchedulePolicy:
    timezone: str = Settings.timezone
    """The last resort for whose-time-is-it: a member's own, then the platform's, then the team's."""
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    weekdays: frozenset[int] = Settings.weekdays
    stumble_cooldown: timedelta = timedelta(hours=4)
    """Working time before a stumble's lesson prompt ("later the same working day")."""
    check_after: timedelta = timedelta(days=Settings.check_after_days)
    check_answer_window: timedelta = timedelta(days=Settings.check_answer_days)
    max_prompts: int = Settings.max_prompts_per_week
    """Most private messages the bot starts with one member per `prompt_window`."""
    prompt_window: timedelta = timedelta(days=7)
    retro_round: WeeklyTime | None = Settings.retro_round
    digest: WeeklyTime | None = Settings.digest
    grace_period: timedelta = Settings.grace_period
    claim_lease: timedelta = Settings.claim_lease
    """A crashed tick's items are taken again after this. Short, because a resend after a crash is
    only dropped as a repeat by Discord (its message nonce) within "the past few minutes"."""
    demo: bool = False
    """Cool-downs of minutes at any hour, for trying the bot out in the terminal."""

    @classmethod
    def from_settings(cls, settings: Settings) -> SchedulePolicy:
        policy = cls(
            timezone=settings.timezone,
            working_hours=settings.working_hours,
            weekdays=settings.weekdays,
            check_after=timedelta(days=settings.check_after_days),
            check_answer_window=timedelta(days=settings.check_answer_days),
            max_prompts=settings.max_prompts_per_week,
            retro_round=settings.retro_round,
            digest=settings.digest,
            grace_period=settings.grace_period,
            claim_lease=settings.claim_lease,
            demo=settings.demo,
        )
        if settings.demo:
            # Weeks become minutes so one sitting shows the whole loop, the cap included.
            return policy.with_demo_pace()
        return policy

    def with_demo_pace(self) -> SchedulePolicy:
        return replace(
            self,
            stumble_cooldown=timedelta(seconds=30),
            check_after=timedelta(minutes=3),
            check_answer_window=timedelta(minutes=3),
            prompt_window=timedelta(minutes=10),
            demo=True,
        )

    def default_post(self, kind: ItemKind) -> WeeklyTime | None:
        """The default time of a team's weekly post (None: off unless the team turns it on)."""
        return self.retro_round if kind is ItemKind.RETRO_ROUND else self.digest
