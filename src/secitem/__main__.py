"""``python -m secitem``: the command line (see :mod:`secitem.cli`)."""

from secitem.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
