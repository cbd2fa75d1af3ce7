"""What commands print: text, JSON (with its versioned envelope) and Markdown renderings."""
