"""Small things a user meets: the overwrite hint names ``--overwrite``; ``extract`` without ``-o``
writes to the current folder; ``stats`` with nothing new shows the stored values; ``db status --json``;
``plot --open`` says when no browser could be opened; ``demo`` inside its own folder does not nest a
second demo, and its re-run does not say it creates the catalog. Through CliRunner and a real
subprocess with stdout piped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hstlc.catalog import Catalog
from hstlc.cli import app
from hstlc.demo import INCOMING, MARKER, default_directory, is_demo_folder
from hstlc.synthetic import make_cos_fuv

runner = CliRunner()


def hstlc(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.upper().startswith("HSTLC_")}
    environment.update(COLUMNS="80", XDG_CONFIG_HOME=str(cwd / ".no-user-config"), **env)
    return subprocess.run([sys.executable, "-m", "hstlc", *args], capture_output=True, text=True, cwd=cwd,
                          env=environment, timeout=180, check=False)


@pytest.fixture
def pair(tmp_path: Path) -> Path:
    make_cos_fuv(tmp_path / "in", "lb4m01aaq", exptime=120.0, source_rate=10.0, seed=3)
    return tmp_path / "in" / "lb4m01aaq_corrtag_a.fits"


# --- extract --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_overwrite_hint_names_the_flag(pair: Path, tmp_path: Path) -> None:
    args = ["--home-dir", str(tmp_path / "home"), "extract", str(pair), "-o", str(tmp_path / "out")]
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 3
    assert "(use --overwrite to replace it)" in again.stderr

    piped = hstlc(tmp_path, *args)
    assert piped.returncode == 3
    [error] = [line for line in piped.stderr.splitlines() if line.startswith("Error:")]
    assert error.endswith("already exists; not replaced (use --overwrite to replace it)")


@pytest.mark.slow
def test_extract_without_output_dir_writes_to_the_current_folder(pair: Path, tmp_path: Path) -> None:
    here = tmp_path / "here"
    here.mkdir()
    done = hstlc(here, "--home-dir", str(tmp_path / "home"), "extract", str(pair))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in here.iterdir() if not p.name.startswith(".")) == ["lb4m01aaq_curve.fits"]
    assert "lb4m01aaq_curve.fits" in done.stdout


# --- stats ----------------------------------------------------------------------------------------


def _row(name: str, output: str) -> list[str]:
    [line] = [line for line in output.splitlines() if name in line]
    return [cell.strip() for cell in line.split("│")[1:-1]]


@pytest.mark.slow
@pytest.mark.parametrize("how", ["clirunner", "subprocess"])
def test_stats_with_nothing_new_shows_the_stored_values(
    catalog_url: str, stocked: dict[str, Path], tmp_path: Path, how: str
) -> None:
    args = ["--home-dir", str(tmp_path / "home"), "--db", catalog_url, "stats"]

    def run() -> str:
        if how == "clirunner":
            result = runner.invoke(app, args, env={"COLUMNS": "80"})
            assert result.exit_code == 0, result.output
            return result.stdout
        done = hstlc(tmp_path, *args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    first, second = run(), run()
    assert "0 computed, 3 unchanged" in second
    name = stocked["periodic"].name
    computed, stored = _row(name, first), _row(name, second)
    assert (computed[-1], stored[-1]) == ("computed", "unchanged")  # the status column says so …
    assert stored[:-1] == computed[:-1]  # … every other column shows the values as stored
    assert stored[1] == "periodic" and stored[2] == "3 min"


# --- db status --json -------------------------------------------------------------------------------


@pytest.mark.slow
def test_db_status_json_through_a_pipe(tmp_path: Path) -> None:
    assert hstlc(tmp_path, "db", "init").returncode == 0
    done = hstlc(tmp_path, "db", "status", "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["catalog"] == f"sqlite:///{tmp_path / 'hstlc-data' / 'hstlc.db'}"
    assert payload["tables"]["metadata"] == 0 and payload["missing_tables"] == []


# --- plot --open ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_plot_open_says_when_no_browser_could_be_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    home = tmp_path / "home"
    catalog = Catalog.from_url(f"sqlite:///{home / 'hstlc.db'}")
    catalog.init_schema()
    catalog.dispose()
    monkeypatch.setattr("webbrowser.open", lambda *a, **k: False)
    result = runner.invoke(app, ["--home-dir", str(home), "plot", "--open"])
    assert result.exit_code == 0, result.output
    index = (home / "plots" / "index.html").as_uri()
    assert result.stderr.strip() == f"No web browser could be opened here; open {index} yourself."

    piped = hstlc(tmp_path, "--home-dir", str(home), "plot", "--open", BROWSER="false")
    assert piped.returncode == 0, piped.stderr
    assert f"No web browser could be opened here; open {index} yourself." in piped.stderr


# --- demo ---------------------------------------------------------------------------------------------


def _demo_folder(folder: Path) -> Path:
    """A folder a demo made (its settings file and incoming/), with nothing in it to ingest."""
    (folder / INCOMING).mkdir(parents=True)
    (folder / "hstlc.toml").write_text(
        f'{MARKER}: settings\nhome_dir = "."\ningest_dir = "{INCOMING}"\nresolver_offline = true\n',
        encoding="utf-8",
    )
    return folder


def test_default_directory_is_the_demo_you_are_in(tmp_path: Path) -> None:
    demo = _demo_folder(tmp_path / "hstlc-demo")
    (demo / "plots").mkdir()
    assert is_demo_folder(demo) and not is_demo_folder(tmp_path)
    assert default_directory(demo) == demo
    assert default_directory(demo / "plots") == demo
    assert default_directory(tmp_path) == tmp_path / "hstlc-demo"
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "hstlc.toml").write_text('home_dir = "/data"\n', encoding="utf-8")
    assert default_directory(tmp_path / "other") == tmp_path / "other" / "hstlc-demo"  # not a demo


def test_demo_in_its_own_folder_does_not_nest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hstlc.demo

    demo = _demo_folder(tmp_path / "hstlc-demo")
    calls: list[Path] = []

    def fake_run_demo(folder: Path, **kwargs: object) -> hstlc.demo.DemoResult:
        calls.append(folder)
        return hstlc.demo.DemoResult(folder, folder / "hstlc.toml", "sqlite:///x.db")

    monkeypatch.setattr("hstlc.cli.demo.run_demo", fake_run_demo)
    monkeypatch.chdir(demo)
    assert runner.invoke(app, ["demo", "--json"]).exit_code == 0
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["demo", "--json"]).exit_code == 0
    assert calls == [demo, demo]


@pytest.mark.slow
def test_demo_rerun_inside_its_folder_through_a_pipe(tmp_path: Path) -> None:
    demo = _demo_folder(tmp_path / "hstlc-demo")
    first = hstlc(demo, "demo")
    assert first.returncode == 0, first.stderr
    assert "creating the catalog" in first.stderr
    again = hstlc(demo, "demo")
    assert again.returncode == 0, again.stderr
    assert "creating the catalog" not in again.stderr
    assert f"using the existing catalog sqlite:///{demo / 'hstlc.db'}" in again.stderr
    assert not (demo / "hstlc-demo").exists()  # no second demo nested in the first
    assert f"Settings:    {demo / 'hstlc.toml'}" in again.stdout
