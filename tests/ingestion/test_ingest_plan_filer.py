"""The filing journal's type (FilingPlan/Move), the filer's fault hook, and ``check --move`` through it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hstlc.catalog import Catalog
from hstlc.catalog import ingest_state as state
from hstlc.cli import app
from hstlc.config import load_settings
from hstlc.file_checks import check_paths
from hstlc.ingestion import FilingPlan, Move, ingest
from hstlc.ingestion.plan import plan_moves, quarantine_plan
from hstlc.ingestion.quarantine import quarantine
from hstlc.ingestion.work import FileInfo
from hstlc.synthetic import BAD_CONDITIONS, make_cos_fuv
from support.ingest import Killed, kill_after, release_as_if_killed

OLD_JOURNAL = {  # what hstlc wrote before FilingPlan existed (a killed run of it left this)
    "moves": [{"src": "/in/a_corrtag_a.fits", "dest_dir": "/bad", "name": "a_corrtag_a.fits",
               "sha256": "1" * 64},
              {"src": "/in/a_x1d.fits", "dest_dir": "/bad", "name": "a_x1d.fits", "sha256": "2" * 64,
               "copy": True}],
    "rows": {"bad_data": [{"filename": "a_corrtag_a.fits", "reasons": ["Bad EXPFLAG"], "path": "/bad",
                           "sha256": "1" * 64}],
             "dataset": {"status": "bad", "fingerprint": "f" * 64, "files": []}},
}


def test_an_old_journal_reads_back_and_writes_the_same_json() -> None:
    plan = FilingPlan.from_json("a", state.QUARANTINING, OLD_JOURNAL)
    assert plan.moves[1] == Move("/in/a_x1d.fits", "/bad", "a_x1d.fits", "2" * 64, copy=True)
    assert plan.moves[1].dest == Path("/bad/a_x1d.fits")
    assert plan.done_status == state.BAD and plan.reasons == ("Bad EXPFLAG",)
    assert plan.to_json() == OLD_JOURNAL
    assert FilingPlan.from_json("a", state.QUARANTINING, plan.to_json()) == plan


def test_a_plan_has_a_journal_status() -> None:
    with pytest.raises(ValueError, match="journal status"):
        FilingPlan("a", state.DONE)


def test_plan_moves_supersedes_only_our_own_older_file(tmp_path: Path) -> None:
    folder = tmp_path / "T"
    folder.mkdir()
    (folder / "x_corrtag.fits").write_bytes(b"old")
    new = tmp_path / "x_corrtag.fits"
    new.write_bytes(b"new")
    from hstlc.filing import sha256_of

    info = FileInfo(str(new), new.name, sha256_of(new))
    ours = [{"name": "x_corrtag.fits", "sha256": sha256_of(folder / "x_corrtag.fits")}]
    moves = plan_moves([info], folder, ours)
    assert moves[0].src == str(folder / "x_corrtag.fits") and "superseded" in moves[0].dest_dir
    assert moves[1] == Move(str(new), str(folder), new.name, info.sha256)
    from hstlc.errors import FilingError

    with pytest.raises(FilingError, match="a different file already exists"):
        plan_moves([info], folder, [])  # not ours: never overwritten, nothing planned


def _bad(tmp_path: Path, rootname: str = "lb4m02bbq"):
    return make_cos_fuv(tmp_path / "bad", rootname, exptime=40.0, source_rate=3.0, seed=6,
                        **BAD_CONDITIONS["Bad EXPFLAG"])


def _settings(tmp_path: Path, url: str):
    return load_settings(overrides={"home_dir": tmp_path / "home", "db_connection_string": url}).settings


def test_check_move_is_refused_while_an_ingest_holds_the_lock(tmp_path: Path, catalog_url: str) -> None:
    bad = _bad(tmp_path)
    settings = _settings(tmp_path, catalog_url)
    catalog = Catalog.from_url(catalog_url)
    catalog.init_schema()
    with state.IngestLockHandle.acquire(catalog, command="hstlc ingest elsewhere"):
        result = CliRunner().invoke(app, ["--home-dir", str(tmp_path / "home"), "--db", catalog_url, "check",
                                          "--move", *map(str, bad.event_files)])
    catalog.dispose()
    assert result.exit_code != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "ingest" in errors[0], result.output
    assert "Traceback" not in result.output
    assert all(p.exists() for p in bad.event_files)  # nothing moved
    assert not settings.bad_data_dir.exists() or not any(settings.bad_data_dir.iterdir())


def test_a_check_move_killed_mid_move_is_finished_by_the_next_ingest(tmp_path: Path,
                                                                     catalog_url: str) -> None:
    bad = _bad(tmp_path)
    settings = _settings(tmp_path, catalog_url)
    outcomes = check_paths(bad.event_files, settings)
    with pytest.raises(Killed):
        quarantine(outcomes, settings, fault=kill_after(1))
    catalog = Catalog.from_url(catalog_url)
    with catalog.session() as session:
        [journal] = state.journals(session)
        assert journal.status == state.QUARANTINING
    release_as_if_killed(catalog)
    empty = tmp_path / "nothing-new"
    empty.mkdir()
    summary = ingest(empty, settings=settings, catalog=catalog)
    assert summary.recovered == ["lb4m02bbq"] and summary.bad == {"Bad EXPFLAG": ["lb4m02bbq"]}
    assert sorted(p.name for p in settings.bad_data_dir.iterdir()) == sorted(p.name for p in bad.event_files)
    with catalog.session() as session:
        assert state.journals(session) == []
        assert state.dataset_records(session, ["lb4m02bbq"])["lb4m02bbq"].status == state.BAD
    catalog.dispose()


def test_check_move_files_as_ingest_quarantines(tmp_path: Path, catalog_url: str) -> None:
    """The same bad_data rows and dataset marker as an ingest's quarantine of the same files."""
    bad = _bad(tmp_path)
    settings = _settings(tmp_path, catalog_url)
    [result] = quarantine(check_paths(bad.event_files, settings), settings)
    assert result.error is None and [p.parent for p in result.moved] == [settings.bad_data_dir] * 2
    catalog = Catalog.from_url(catalog_url)
    with catalog.session() as session:
        record = state.dataset_records(session, ["lb4m02bbq"])["lb4m02bbq"]
        assert record.status == state.BAD
        assert [f["name"] for f in record.files] == sorted(p.name for p in bad.event_files)
    catalog.dispose()
    # the plan itself is ingest's
    files = [FileInfo(str(p), p.name, "0" * 64) for p in bad.event_files]
    plan = quarantine_plan("lb4m02bbq", files, {p.name for p in bad.event_files}, ["Bad EXPFLAG"],
                           tmp_path / "elsewhere", None)
    assert plan.status == state.QUARANTINING and len(plan.bad_data) == 2


def test_every_name_the_package_exports_is_what_it_says() -> None:
    """A name equal to a submodule's would be shadowed by that submodule once imported."""
    import importlib
    import types

    package = importlib.import_module("hstlc.ingestion")
    for name in package.__all__:
        assert not isinstance(getattr(package, name), types.ModuleType), name
