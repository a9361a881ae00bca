"""Repositories: the only code that reads and writes rows. Each returns plain frozen records
from `bot.core.model`; the team-scoped ones filter every query by the team they were made for."""
