"""Logging to stderr. Nothing logged anywhere in the reconciler carries a secret."""

from __future__ import annotations


def configure_logging(verbosity: int) -> None:
    """Warnings only by default; the logging module is not even loaded unless asked for (-v)."""
    if verbosity <= 0:
        return
    import logging

    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="reconcile: %(levelname)s: %(message)s")
