"""One module per revision; a released revision is never edited, only followed by another."""
