"""The `/retro` command grammar, shared by every platform: adapters only translate it."""
