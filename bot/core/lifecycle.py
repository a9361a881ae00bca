"""State changes of a misstep that several callers share (commands and the scheduler)."""

from __future__ import annotations

from bot.core.model import Misstep
from bot.core.outcome import Decision, decide_outcome
from bot.storage.repositories.missteps import TeamMissteps


async def refresh_outcome(missteps: TeamMissteps, misstep: Misstep) -> Decision:
    """Re-decide a misstep's outcome from its stored facts and save it when it changed."""
    decision = decide_outcome(await missteps.outcome_facts(misstep.id))
    if (decision.outcome, decision.at) != (misstep.outcome, misstep.outcome_at):
        await missteps.save_decision(misstep.id, decision)
    return decision


async def forget_anonymous_author(missteps: TeamMissteps, misstep: Misstep) -> None:
    """An anonymous author's address is kept only while a lesson prompt may still need it."""
    if misstep.anonymous and misstep.author_id is not None:
        await missteps.erase_author(misstep.id)
