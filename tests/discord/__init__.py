"""The Discord adapter: pure translation tests, and wire tests with the real discord.py against the
local Discord emulator."""
