"""The `/api/` JSON API: findings aggregations, usage and engine status."""
