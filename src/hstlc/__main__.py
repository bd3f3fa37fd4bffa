"""``python -m hstlc``."""

from hstlc.cli import main

if __name__ == "__main__":
    main()
