"""Rendering scan results: table, JSON, SARIF, CycloneDX and SPDX."""
