"""vulndb package."""
