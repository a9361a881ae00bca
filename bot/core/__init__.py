"""The platform-neutral core: domain records, the command grammar, the engine and its pure rules.
Nothing in here imports a chat platform's library."""
