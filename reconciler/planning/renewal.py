"""When a certificate is due for renewal, from its issued lifetime (pure)."""

from __future__ import annotations

from datetime import datetime

from reconciler.desired.types import RenewBefore


def renewal_time(not_before: datetime, not_after: datetime, renew_before: RenewBefore) -> datetime:
    """The moment renewal becomes due.

    The threshold comes from the *issued* lifetime. When it is as long as the lifetime itself
    (a 30d threshold on a 1-day certificate), a third of the lifetime is used instead, so that a
    short-lived certificate cannot trigger a renewal on every run.
    """
    lifetime = not_after - not_before
    threshold = renew_before.threshold(lifetime)
    if threshold >= lifetime:
        threshold = lifetime / 3
    return not_after - threshold
