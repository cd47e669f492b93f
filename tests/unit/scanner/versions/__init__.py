"""Unit tests for tidegate.scanner.versions."""
