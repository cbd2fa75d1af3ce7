"""How people steer the bot from the forge: the dashboard issue, `/image-bot` commands, and
what the bot remembers in the dashboard's marker (pure)."""
