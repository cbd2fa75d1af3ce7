"""Real git repositories and remotes for the tests."""
