"""Test package: makes `tests.support` importable from any test module (rootdir on sys.path)."""
