"""The device's files: observing them, the live pair, backups, the answer store, leftovers."""
