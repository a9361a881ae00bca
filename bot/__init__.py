"""retro: a retrospective bot that tells learning from failing."""
