"""Allow `python -m polymarket_bot` where the console script is not on PATH."""

import sys

from polymarket_bot.cli import main

sys.exit(main())
