"""ecr package."""
