"""``python -m customkpt.cli``: the ``customkpt`` command."""
import sys

from . import main

sys.exit(main())
