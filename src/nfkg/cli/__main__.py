"""``python -m nfkg.cli``: the ``nfkg`` command, with the same exit status."""

import sys

from . import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
