"""Command handlers, one module per topic, and the one table the engine dispatches on."""

from bot.core.handlers import digest, missteps, schedule, team

HANDLERS = {**missteps.HANDLERS, **digest.HANDLERS, **schedule.HANDLERS, **team.HANDLERS}
"""Command value type -> handler. Add a topic's handlers here."""
