"""``python -m tinyad`` is the ``tinyad`` command."""
import sys

from .cli import main

sys.exit(main())
