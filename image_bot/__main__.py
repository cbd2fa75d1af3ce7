"""`python -m image_bot` runs the command line."""

from image_bot.app.cli import main

main()
