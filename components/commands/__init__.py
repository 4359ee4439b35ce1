"""One module per `modelstack` subcommand; each exposes `register(subcommands)`."""
