"""Declarative reconciler for thin-edge.io device certificates issued by a Cumulocity tenant CA."""

__version__ = "0.1.0"
