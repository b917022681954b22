"""Crash points: the reconcile process killed at each state-changing system call (see test_crash_points.py)."""
