"""Property tests: each version scheme against its reference implementation."""
