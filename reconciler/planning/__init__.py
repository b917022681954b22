"""The pure planner: what was observed, the checks, renewal time, backoff, and the plan it yields."""
