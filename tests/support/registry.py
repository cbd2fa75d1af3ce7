"""Real docker-registry processes on 127.0.0.1 (anonymous, basic and token auth)."""
