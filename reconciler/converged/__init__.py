"""The converged check: a stamp written by the last full run that ended converged, and the answer
read from it before anything heavy is imported. Standard library and reconciler.basics only
(checked by import-linter), so that an hourly timer on a converged device pays for an interpreter
and a few dozen system calls, not for pydantic, PyYAML and cryptography."""
