"""pytest fixtures that start the fake forge."""
