"""`python -m model.embed ...`: see model.embed.cli."""

import sys

from model.embed.cli import main

sys.exit(main())
