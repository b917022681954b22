"""Findings of the fuzz tests that are reported but not fixed yet, so that the fuzz tests can
keep every other promise in force meanwhile. Each has a strict xfail with its reproducer in
test_fuzz_findings.py; when a fix lands that test fails as XPASS: drop it here and there."""

from __future__ import annotations

import csv

from cryptography import x509

from tests.fuzz_harness import CaseTimeout, Known

INVALID_VERSION = (  # cryptography's InvalidVersion is no ValueError
    Known("invalid-version", x509.InvalidVersion, "reconciler/c8y/pkcs7.py"),
    Known("invalid-version", x509.InvalidVersion, "reconciler/c8y/answer.py"),
)
MALFORMED_NAME_IN_CHAIN = (Known("chain-malformed-name", ValueError, "reconciler/chain.py"),)  # names parse lazily
DURATIONS = (
    Known("duration-overflow", OverflowError, "reconciler/durations.py"),
    Known("duration-quadratic", CaseTimeout, "reconciler/durations.py"),
)
BULK_REPORT_SHAPE = (  # _chunk_results takes lists and items on trust
    Known("bulk-report-shape", AttributeError, "reconciler/c8y/registration.py"),
    Known("bulk-report-shape", TypeError, "reconciler/c8y/registration.py"),
)
CSV_FIELD_LIMIT = (Known("csv-field-limit", csv.Error, "reconciler/register_input.py"),)
CREDENTIALS_NOT_UTF8 = (Known("credentials-not-utf8", UnicodeDecodeError, "reconciler/c8y/admin.py"),)
