"""updaters package."""
