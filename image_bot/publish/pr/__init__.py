"""What a bot pull request says: title, body, labels, commit message, templates, the hidden PR marker (pure)."""
