"""One error type for bad user input: the CLIs print its message on one line and exit 2."""


class UserError(Exception):
    """Bad input from the user (a path, a preset, a flag); the message names it and the fix."""
