"""The command line starts fast: loading it imports none of the heavy libraries a command may need."""

from __future__ import annotations

import json
import subprocess
import sys

import hstlc

HEAVY = ("astropy", "matplotlib", "scipy", "sqlalchemy", "requests")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120, check=False)


def test_importing_the_cli_loads_no_heavy_library() -> None:
    code = (
        "import json, sys\n"
        "import hstlc.cli\n"
        f"heavy = {HEAVY!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    result = _run("-c", code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_every_command_is_registered_in_order() -> None:
    from hstlc.cli import app

    assert [c.name for c in app.registered_commands] == [
        "ingest", "check", "extract", "resolve", "stats", "targets", "products", "show", "plot", "run",
        "download", "demo", "config",
    ]
    assert [g.name for g in app.registered_groups] == ["export", "db", "reset"]


def test_reading_the_catalog_loads_no_science_library() -> None:
    """``targets``, ``products`` and ``show`` need SQL, not numpy, scipy or astropy (``export`` needs astropy
    for its table writers, imported when it writes)."""
    code = (
        "import json, sys\n"
        "import hstlc.catalog.listings, hstlc.catalog.show, hstlc.cli.selection, hstlc.export\n"
        "heavy = ('numpy', 'scipy', 'astropy', 'matplotlib', 'requests')\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in heavy})))\n"
    )
    result = _run("-c", code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_version_from_python_m() -> None:
    result = _run("-m", "hstlc", "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"hstlc {hstlc.__version__}\n"


def test_demo_default_folder_matches_the_library() -> None:
    import hstlc.cli.demo
    import hstlc.demo

    assert hstlc.cli.demo.DEFAULT_DIRECTORY == hstlc.demo.DEFAULT_DIRECTORY
