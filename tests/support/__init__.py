"""Shared helpers for tests: real image builders and fixtures, never mocks."""
