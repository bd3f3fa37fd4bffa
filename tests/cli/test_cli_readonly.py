"""Read-only commands create nothing: ``config``, ``check`` without ``--move``, ``resolve --offline`` and
``db status`` leave a fresh working folder exactly as they found it (no ``./hstlc-data/``, no log file, no
empty ``hstlc.db``, no missing parent folder). Commands that change something still keep their log.
Each through CliRunner and through a real subprocess, in a fresh temporary working folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hstlc.cli import app
from hstlc.synthetic import make_cos_fuv

runner = CliRunner()


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder (the current one) with one good event file pair in it."""
    cwd = tmp_path / "work"
    make_cos_fuv(cwd, "lb4m01aaq", exptime=60.0, source_rate=5.0, seed=1)
    monkeypatch.chdir(cwd)
    return cwd


def run(how: str, cwd: Path, *args: str) -> tuple[int, str, str]:
    if how == "clirunner":
        result = runner.invoke(app, list(args))
        return result.exit_code, result.stdout, result.stderr
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("HSTLC_")}
    done = subprocess.run([sys.executable, "-m", "hstlc", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=120, check=False)
    return done.returncode, done.stdout, done.stderr


READ_ONLY = {
    "config": (["config"], 0),
    "config --json": (["config", "--json"], 0),
    "check": (["check", "lb4m01aaq_corrtag_a.fits"], 0),
    "check --json": (["check", "--json", "lb4m01aaq_corrtag_a.fits", "lb4m01aaq_corrtag_b.fits"], 0),
    "resolve --offline": (["resolve", "--offline", "AZV-148", "HD209458"], 0),
    "resolve --offline --json": (["resolve", "--offline", "--json", "AZV-148"], 0),
}


@pytest.mark.slow
@pytest.mark.parametrize("how", ["clirunner", "subprocess"])
@pytest.mark.parametrize("name", sorted(READ_ONLY))
def test_read_only_commands_create_nothing(fresh: Path, tmp_path: Path, how: str, name: str) -> None:
    args, expected = READ_ONLY[name]
    before = listing(tmp_path)
    code, out, err = run(how, fresh, *args)
    assert code == expected, out + err
    assert listing(tmp_path) == before


@pytest.mark.slow
@pytest.mark.parametrize("how", ["clirunner", "subprocess"])
def test_db_status_without_a_catalog_is_one_line_and_creates_nothing(fresh: Path, tmp_path: Path,
                                                                    how: str) -> None:
    before = listing(tmp_path)
    code, out, err = run(how, fresh, "db", "status")
    assert code == 1
    assert out == ""
    assert err == f"Error: sqlite:///{fresh / 'hstlc-data' / 'hstlc.db'}: the catalog does not exist; " \
                  "run 'hstlc db init'\n"
    assert listing(tmp_path) == before


@pytest.mark.slow
@pytest.mark.parametrize("how", ["clirunner", "subprocess"])
def test_db_status_creates_no_missing_parent_folder(fresh: Path, tmp_path: Path, how: str) -> None:
    url = f"sqlite:///{tmp_path / 'nonexistent' / 'deeper' / 'x.db'}"
    before = listing(tmp_path)
    code, out, err = run(how, fresh, "--db", url, "db", "status")
    assert code == 1
    assert (out, err) == ("", f"Error: {url}: the catalog does not exist; run 'hstlc db init'\n")
    assert not (tmp_path / "nonexistent").exists()
    assert listing(tmp_path) == before


def test_db_status_reads_an_existing_catalog_without_writing(fresh: Path) -> None:
    assert runner.invoke(app, ["db", "init"]).exit_code == 0
    before = listing(fresh)
    result = runner.invoke(app, ["db", "status"])
    assert result.exit_code == 0, result.output
    assert listing(fresh) == before  # no new log file


def test_commands_that_change_something_keep_their_log(fresh: Path) -> None:
    assert runner.invoke(app, ["db", "init"]).exit_code == 0
    added = runner.invoke(app, ["resolve", "--offline", "--add", "NGC-224=M31"])
    assert added.exit_code == 0, added.output
    moved = runner.invoke(app, ["check", "--move", "lb4m01aaq_corrtag_a.fits"])
    assert moved.exit_code == 0, moved.output
    logs = sorted(p.name.split("_")[0] for p in (fresh / "hstlc-data" / "logs").iterdir())
    assert logs == ["check", "db-init", "resolve"]
