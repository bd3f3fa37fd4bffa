"""``hstlc ingest --copy`` (the user's files stay where they are) and ``--dry-run`` (change nothing), issue 13
item 13."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hstlc.catalog import Catalog
from hstlc.catalog.store import open_if_exists
from hstlc.cli import app
from hstlc.ingestion import Move, ingest
from hstlc.ingestion.dry_run import plan_ingest
from support.ingest import catalog_snapshot, copy_tree, make_sample, make_settings, sha, tree


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Path, Path]:
    incoming, lref = tmp_path / "sample", tmp_path / "lref"
    make_sample(incoming, lref, extra=True)
    return incoming, lref


def _listing(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): sha(p) for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_copy_files_copies_and_leaves_the_inputs(catalog_url: str, tmp_path: Path,
                                                 sample: tuple[Path, Path]) -> None:
    incoming, lref = sample
    moved_in, copied_in = copy_tree(incoming, tmp_path / "moved"), copy_tree(incoming, tmp_path / "copied")
    given = _listing(copied_in)
    snapshots = []
    for name, folder, copy in (("move", moved_in, False), ("copy", copied_in, True)):
        url = catalog_url if not catalog_url.startswith("sqlite") else f"sqlite:///{tmp_path / name}.db"
        catalog = Catalog.from_url(url)
        from hstlc.catalog.schema import Base

        Base.metadata.drop_all(catalog.engine)
        catalog.init_schema()
        home = tmp_path / f"home-{name}"
        summary = ingest(folder, settings=make_settings(home, lref), catalog=catalog, copy=copy)
        assert summary.failed == {} and len(summary.ingested) == 5 and summary.bad_count == 1
        snapshots.append((catalog_snapshot(catalog, home), tree(home)))
        if copy:
            assert _listing(copied_in) == given  # every input file where it was, unchanged
            filed = {p.name: sha(p) for root in (home / "filesystem", home / "bad_data")
                     for p in root.rglob("*.fits")}
            assert filed == {Path(k).name: v for k, v in given.items()}
            assert all(os.stat(p).st_nlink == 1 for p in (home / "filesystem").rglob("*.fits"))  # real copies
            again = ingest(folder, settings=make_settings(home, lref), catalog=catalog, copy=True)
            assert again.ingested == [] and len(again.unchanged) == 6 and again.failed == {}
            assert (catalog_snapshot(catalog, home), tree(home)) == snapshots[-1]
        catalog.dispose()
    assert snapshots[0] == snapshots[1]  # the same catalog and tree as a moving ingest
    assert list(moved_in.iterdir()) == []


@pytest.mark.slow
def test_an_interrupted_copy_is_finished_by_the_next_run(catalog: Catalog, tmp_path: Path,
                                                         sample: tuple[Path, Path]) -> None:
    incoming, lref = sample
    given = _listing(incoming)
    settings = make_settings(tmp_path / "home", lref)

    def failing(step: str, rootname: str, move: Move | None) -> None:
        if move is not None and move.copy and move.name.startswith("lb4m03aaq"):
            raise OSError(28, "No space left on device")

    first = ingest(incoming, settings=settings, catalog=catalog, copy=True, fault=failing)
    assert "filing journal kept" in first.failed["lb4m03aaq"]
    second = ingest(incoming, settings=settings, catalog=catalog, copy=True)
    assert second.recovered == ["lb4m03aaq"] and second.failed == {}
    assert _listing(incoming) == given
    assert {p.name for p in (settings.filesystem_dir / "WD0308-565").glob("lb4m03aaq*")} == {
        Path(k).name for k in given if k.startswith("lb4m03aaq")}


@pytest.mark.slow
def test_dry_run_plans_what_ingest_then_does(tmp_path: Path, sample: tuple[Path, Path]) -> None:
    incoming, lref = sample
    settings = make_settings(tmp_path / "home", lref)
    before = _listing(incoming)
    plan = plan_ingest(incoming, settings=settings, catalog=open_if_exists(settings.database_url))
    assert _listing(incoming) == before and not (tmp_path / "home").exists()  # nothing written
    actions = {d.rootname: d.action for d in plan.datasets}
    assert actions == {"lb4m01aaq": "ingest", "lb4m01abq": "ingest", "lb4m02aaq": "ingest",
                       "lb4m03aaq": "ingest", "lb4m04aaq": "ingest", "lb4m09aaq": "quarantine"}
    quarantined = next(d for d in plan.datasets if d.action == "quarantine")
    assert quarantined.reasons == ("Bad EXPFLAG",) and quarantined.destination == str(settings.bad_data_dir)

    catalog = Catalog.from_url(settings.database_url)
    summary = ingest(incoming, settings=settings, catalog=catalog)
    assert sorted(summary.ingested) == sorted(r for r, a in actions.items() if a == "ingest")
    assert summary.bad == {"Bad EXPFLAG": ["lb4m09aaq"]}
    assert len(summary.composites) == len(plan.composites) == 3
    by_root = {d.rootname: d for d in plan.datasets}
    for root in summary.ingested:
        assert any(Path(by_root[root].destination or "").glob(f"{root}_*.fits"))  # filed where planned

    # The same files again (copied back): the dry run finds them already ingested.
    copy_tree(tmp_path / "home" / "filesystem" / "WD0308-565", tmp_path / "again")
    again = plan_ingest(tmp_path / "again", settings=settings, catalog=catalog)
    assert {d.action for d in again.datasets} == {"unchanged"}
    catalog.dispose()


def _run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hstlc", *args], env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.slow
def test_dry_run_command_changes_nothing(tmp_path: Path, sample: tuple[Path, Path]) -> None:
    incoming, lref = sample
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("HSTLC_", "XDG_"))}
    env.update(HSTLC_LREF_DIR=str(lref), COLUMNS="80")
    before = _listing(tmp_path)
    done = _run_cli(["--home-dir", str(home), "ingest", str(incoming), "--dry-run", "--offline"], env)
    assert done.returncode == 0, done.stderr
    assert "lb4m09aaq" in done.stdout and "quarantine" in done.stdout and "Bad EXPFLAG" in done.stdout
    assert "5 ingest, 1 quarantine, 0 unchanged, 0 fail" in " ".join(done.stdout.split())
    assert "Nothing was changed" in " ".join(done.stdout.split()), done.stderr
    assert done.stderr == "", done.stderr
    assert _listing(tmp_path) == before and not home.exists()

    result = CliRunner().invoke(app, ["--home-dir", str(home), "ingest", str(incoming), "--dry-run",
                                      "--offline", "--json"], env={"HSTLC_LREF_DIR": str(lref)})
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["counts"] == {"ingest": 5, "quarantine": 1, "unchanged": 0, "fail": 0}
    assert len(data["composites"]) == 3 and not home.exists()
