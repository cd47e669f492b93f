"""The labelled quality gate: real images, independently derived labels, a committed baseline."""
