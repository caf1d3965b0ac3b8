"""The package's own error type: a user's mistake, reported as one line and exit code 1."""


class NamelangError(Exception):
    """Something the user can fix: a missing file, an unknown model, a bad column, an absent device."""
