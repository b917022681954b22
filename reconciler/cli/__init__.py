"""The `reconcile` command line: one module per command over one shared parser module."""
