"""What ``hstlc check`` reports and how errors name files (issue 13 items 8 and 9).

- An x1d named alone is reported as what it is (verdict ``unsupported``: not an event list, naming the
  event file to check), not silently replaced by a row for its ``_corrtag``; named with its event file it
  is part of that dataset's row.
- ``Error:`` lines name the file by the path as given (``data/sub/x_corrtag_a.fits: …``), also for a
  companion found beside it; the library message (``str(exc)``) keeps the file name only.
Each through Typer's CliRunner and a real ``python -m hstlc`` subprocess with stdout piped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hstlc.cli import app
from hstlc.config import load_settings
from hstlc.errors import ExtractionError, InputFileError, located_text, message_with_path
from hstlc.file_checks import check_paths
from hstlc.readers import read_event_times
from hstlc.synthetic import make_cos_fuv

runner = CliRunner()
X1D_PROBLEM = ("an x1d spectrum is not an event list; check its event files lb4m01aaq_corrtag_a.fits, "
               "lb4m01aaq_corrtag_b.fits")


def _hstlc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("HSTLC_")}
    return subprocess.run([sys.executable, "-m", "hstlc", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Error:")]


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``<tmp>/data/sub/`` holding an FUV pair with its x1d; the working folder is ``<tmp>``."""
    make_cos_fuv(tmp_path / "data" / "sub", "lb4m01aaq", exptime=40.0, source_rate=5.0, x1d=True, seed=2)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _both(tree: Path, *args: str):
    """The same command through CliRunner and as a subprocess (cwd = ``tree``): (exit, stdout, stderr)."""
    full = ["--home-dir", str(tree / "home"), *args]
    result = runner.invoke(app, full)
    done = _hstlc(*full, cwd=tree)
    return (result.exit_code, result.stdout, result.stderr), (done.returncode, done.stdout, done.stderr)


# --- item 8: an x1d is reported as what it is ------------------------------------------------------------


@pytest.mark.slow
def test_x1d_alone_is_not_an_event_list(tree: Path) -> None:
    x1d = "data/sub/lb4m01aaq_x1d.fits"
    for code, out, err in _both(tree, "check", "--json", x1d):
        assert code == 2, err
        (row,) = json.loads(out)
        assert row["file"] == x1d and row["verdict"] == "unsupported" and row["per_file"] == {}
        assert row["files"] == [x1d]  # no row for a file the user did not name
        assert row["error"] == f"{x1d}: {X1D_PROBLEM}"
        assert _errors(err) == [f"Error: {x1d}: {X1D_PROBLEM}"]


@pytest.mark.slow
def test_x1d_alone_table(tree: Path) -> None:
    for code, out, err in _both(tree, "check", "data/sub/lb4m01aaq_x1d.fits"):
        assert code == 2
        assert "lb4m01aaq_x1d.fits" in out and "unsupported" in out
        assert "corrtag" not in out  # the table names only what was given
        assert len(_errors(err)) == 1


@pytest.mark.slow
def test_x1d_with_its_event_file_is_one_row(tree: Path) -> None:
    sub = "data/sub"
    for code, out, err in _both(tree, "check", "--json", f"{sub}/lb4m01aaq_x1d.fits",
                                f"{sub}/lb4m01aaq_corrtag_a.fits"):
        assert code == 0, err
        (row,) = json.loads(out)
        assert row["verdict"] == "good" and row["file"] == f"{sub}/lb4m01aaq_corrtag_a.fits"
        assert row["files"] == [f"{sub}/lb4m01aaq_corrtag_a.fits", f"{sub}/lb4m01aaq_corrtag_b.fits",
                                f"{sub}/lb4m01aaq_x1d.fits"]
        assert _errors(err) == []


def test_x1d_without_event_file(tmp_path: Path) -> None:
    lonely = tmp_path / "lb4m05aaq_x1d.fits"
    lonely.write_bytes(b"")
    settings = load_settings(overrides={"home_dir": tmp_path / "home"}).settings
    (outcome,) = check_paths([lonely], settings)
    assert outcome.verdict == "unsupported"
    assert str(outcome.error) == ("lb4m05aaq_x1d.fits: an x1d spectrum is not an event list (no _corrtag or "
                                  "_tag file beside it to check)")


# --- item 9: errors name the path as given --------------------------------------------------------------


@pytest.mark.slow
def test_check_error_names_the_path_as_given(tree: Path) -> None:
    junk = Path("data/sub/lb4m03ccq_corrtag_a.fits")
    junk.write_text("plain text")
    for code, _, err in _both(tree, "check", str(junk), "data/sub/lb4m04ddq_corrtag_a.fits"):
        assert code == 2
        assert _errors(err) == [
            "Error: data/sub/lb4m03ccq_corrtag_a.fits: not a FITS file (no SIMPLE card at the start)",
            "Error: data/sub/lb4m04ddq_corrtag_a.fits: file not found",
        ]


@pytest.mark.slow
def test_companion_error_names_the_companion_beside_the_given_path(tree: Path) -> None:
    b = tree / "data/sub/lb4m01aaq_corrtag_b.fits"
    b.write_bytes(b.read_bytes()[:4000])
    for code, _, err in _both(tree, "check", "data/sub/lb4m01aaq_corrtag_a.fits"):
        assert code == 2
        (line,) = _errors(err)
        assert line.startswith("Error: data/sub/lb4m01aaq_corrtag_b.fits: truncated FITS file")


@pytest.mark.slow
def test_extract_error_names_the_path_as_given(tree: Path) -> None:
    junk = Path("data/sub/junk_corrtag_a.fits")
    junk.write_text("not FITS")
    for code, _, err in _both(tree, "extract", str(junk), "-o", "out"):
        assert code == 3
        assert _errors(err) == [
            "Error: data/sub/junk_corrtag_a.fits: not a FITS file (no SIMPLE card at the start)"
        ]


def test_library_message_keeps_the_name(tree: Path) -> None:
    junk = Path("data/sub/lb4m03ccq_corrtag_a.fits")
    junk.write_text("plain text")
    with pytest.raises(InputFileError) as info:
        read_event_times(junk)
    assert str(info.value) == "lb4m03ccq_corrtag_a.fits: not a FITS file (no SIMPLE card at the start)"
    assert info.value.path == junk and info.value.located == f"{junk}: {info.value.problem}"
    assert message_with_path(info.value) == info.value.located


def test_located_text_rules() -> None:
    given = [Path("a/x_corrtag_a.fits"), Path("b/y_corrtag_a.fits"), Path("c/y_corrtag_a.fits")]
    assert located_text("x_corrtag_a.fits: bad", given) == "a/x_corrtag_a.fits: bad"
    assert located_text("x_corrtag_b.fits: bad", given) == "a/x_corrtag_b.fits: bad"  # companion
    assert located_text("y_corrtag_a.fits: bad", given) == "y_corrtag_a.fits: bad"  # ambiguous: unchanged
    assert located_text("composite: none of the given files could be read", given).startswith("composite")
    assert located_text("z_flux.fits: missing", given) == "z_flux.fits: missing"
    assert message_with_path(ExtractionError("x_corrtag_a.fits: SP_LOC_A is -999"), given) == (
        "a/x_corrtag_a.fits: SP_LOC_A is -999")
