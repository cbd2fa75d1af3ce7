"""`python -m image_bot` runs the command line."""

from image_bot.cli import main

main()
