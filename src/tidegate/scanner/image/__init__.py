"""Reading container images: layer streams, the file walk, and the merged filesystem view."""
