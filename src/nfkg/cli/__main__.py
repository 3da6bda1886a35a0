"""``python -m nfkg.cli``: the ``nfkg`` command."""

from . import main

if __name__ == "__main__":  # pragma: no cover
    main()
