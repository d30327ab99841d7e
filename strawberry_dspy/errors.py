"""User-facing errors: one clear line and exit code 2, never a traceback."""


class UserError(Exception):
    """A mistake the user can fix: what was wrong, the value received, and the fix."""

    exit_code = 2
