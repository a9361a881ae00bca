"""Local emulators of the chat platforms, spoken to over real sockets on 127.0.0.1."""
