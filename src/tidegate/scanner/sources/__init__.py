"""Where images come from: OCI layouts, archives, a blob store, a remote registry."""
