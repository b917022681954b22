"""Shared basics: errors and exit codes, limits, durations, the clock, safe reads, atomic writes, the lock, logs."""
