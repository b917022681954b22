"""The size bounds of everything the reconciler reads: larger input is refused at once, unread.

Each is far above what a real file or answer holds, and far below what could stall a device.
"""

KIB = 1024

# A tenant answer of any kind (certificate, token, CA certificates, error page), and the space
# reserved on disk before a request (answer_store.py). A real enrollment answer is under 1 KiB
# (tests/fixtures/c8y), a chain a few KiB; 32 KiB keeps a wide margin and lets a device enroll on
# a 64 KiB partition (the reservation, key, CSR and run history fit on it together).
MAX_ANSWER_BYTES = 32 * KIB
LEGACY_ANSWER_RESERVES = (256 * KIB,)  # what earlier versions reserved: their reservations are still recovered
MAX_PEM_BYTES = 256 * KIB  # a key or certificate on disk; a staged answer is at most MAX_ANSWER_BYTES
MAX_STATE_BYTES = 256 * KIB  # a desired-state file
MAX_TEDGE_TOML_BYTES = 1024 * KIB  # thin-edge's configuration
MAX_CA_BYTES = 1024 * KIB  # tenant.ca_certificate
MAX_SECRET_BYTES = 4 * KIB  # a one-time password file
MAX_CREDENTIALS_BYTES = 64 * KIB  # an admin credentials file (C8Y_USER=…)
MAX_DEVICE_LIST_BYTES = 32 * 1024 * KIB  # a fleet's device list for `reconcile register` (~100 bytes a device)
