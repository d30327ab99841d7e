"""User-facing errors: one clear line, never a traceback; exit code 2 for bad input, 1 when the provider failed."""


class UserError(Exception):
    """A mistake the user can fix: what was wrong, the value received, and the fix."""

    exit_code = 2


# what to do when a provider keeps failing: the fix half of every such message
PROVIDER_FIX = ("check the model and its server (--model, --api-base, the provider's status) or allow longer "
                "outages (retry.budget_s)")


class ProviderFailure(UserError):
    """All or most of a run's traces failed for infrastructure reasons (server down, key revoked): exit code 1."""

    exit_code = 1


def check_failures(what: str, failed: int, total: int, error: str | None, then: str) -> None:
    """Raise ProviderFailure naming the cause (`error`, one of the failures) and the fix when more than half failed."""
    if not total or failed * 2 <= total:
        return
    cause = (error or "no error recorded").strip().splitlines()[0][:400]
    raise ProviderFailure(f"{what}: {failed} of {total} traces failed (error: {cause}); {PROVIDER_FIX}, then {then}")
