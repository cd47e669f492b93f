"""sbom package."""
