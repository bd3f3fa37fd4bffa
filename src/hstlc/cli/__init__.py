"""The ``hstlc`` command line: a thin layer that parses, calls one library function and renders."""

from hstlc.cli.app import app


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
