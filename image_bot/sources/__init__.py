"""Where an image comes from: its source repository (OCI labels), compare links, release notes."""
