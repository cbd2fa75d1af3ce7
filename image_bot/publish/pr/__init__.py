"""What a bot pull request says: title, body, labels, commit message, templates, and the
hidden PR marker (pure)."""
