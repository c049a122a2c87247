"""User-facing errors: the CLI prints them on one line and exits with code 2."""


class UserError(Exception):
    """Bad input from the user (unknown id, invalid parameter, unreadable or unwritable file)."""
