"""GitHub through PyGithub: token or App installation auth, pull requests, signed commits."""
