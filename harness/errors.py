"""Errors the CLI turns into one line on stderr and exit status 2."""


class UsageError(Exception):
    """Bad input from the user: unknown names, bad numbers, unusable paths, corrupt result files."""
