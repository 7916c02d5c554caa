"""Entry point of `python -m model`."""

import sys

from .cli import main

sys.exit(main())
