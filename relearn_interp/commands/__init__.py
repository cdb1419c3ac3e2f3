"""One module per `relearn-interp` subcommand."""
