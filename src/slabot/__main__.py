"""``python -m slabot`` is the ``slabot`` command."""

import sys

from .cli import main

sys.exit(main())
