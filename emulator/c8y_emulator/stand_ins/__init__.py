"""Stand-ins for thin-edge's own processes (tedge-mapper-c8y, tedge-agent), which cannot be installed
here: small, faithful to the documented behaviour the reconciler relies on, and nothing more."""
