"""Carrying out a plan: the applier, activation, the journal and the real backends."""
