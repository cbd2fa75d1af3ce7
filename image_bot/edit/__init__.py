"""Edit: find image references in manifests and rewrite them byte-exactly."""
