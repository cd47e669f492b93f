"""One module per console area; each exposes its `ROUTES`."""
