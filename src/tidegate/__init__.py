"""Tidegate: a self-hosted OCI registry with built-in vulnerability scanning."""

__version__ = "0.1.0"
