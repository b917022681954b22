"""One run from end to end: the engine, the run history, the report, facts and metrics."""
