"""Command handlers, one module per topic, and the one table the engine dispatches on."""

from bot.core.handlers import missteps

HANDLERS = {**missteps.HANDLERS}
"""Command value type -> handler. Add a topic's handlers here."""
