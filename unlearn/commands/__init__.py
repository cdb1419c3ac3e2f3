"""One module per `unlearn` subcommand."""
