"""``hstlc.update`` (``hstlc run``): download → ingest → stats → plot under one lock, against a local MAST."""

from __future__ import annotations

from pathlib import Path

import pytest

from hstlc.catalog import Catalog
from hstlc.catalog import ingest_state as state
from hstlc.config import Settings
from hstlc.errors import IngestLockedError
from hstlc.update import update
from support.ingest import make_settings
from support.mast import MastServer


def settings_for(tmp_path: Path, root: Path, url: str, **extra: object) -> Settings:
    return make_settings(tmp_path / "home", root / "lref", oref_dir=root / "oref", mast_url=url,
                         download_backoff=0.01, download_timeout=2.0, **extra)


@pytest.mark.slow
def test_run_brings_everything_up_to_date_then_has_nothing_to_do(
    catalog: Catalog, tmp_path: Path, mast: MastServer, archive_root: tuple[Path, list]
) -> None:
    settings = settings_for(tmp_path, archive_root[0], mast.url)
    first = update(settings, catalog)
    stages = {s.name: s for s in first.stages}
    assert [s.name for s in first.stages] == ["download", "ingest", "stats", "plot"]
    assert not first.had_failures, first.to_dict()
    assert stages["download"].done == 6 and stages["ingest"].done == 3
    assert stages["stats"].done >= 3 and (settings.plot_dir / "index.html").is_file()
    second = update(settings, catalog)
    again = {s.name: s for s in second.stages}
    assert again["download"].done == 0 and "3 already known" in again["download"].detail
    assert again["ingest"].done == 0 and again["stats"].done == 0 and not second.had_failures


def test_a_stage_that_cannot_run_is_recorded_and_the_others_go_on(
    catalog: Catalog, tmp_path: Path, archive_root: tuple[Path, list]
) -> None:
    settings = settings_for(tmp_path, archive_root[0], "http://127.0.0.1:9", download_retries=0)
    summary = update(settings, catalog)
    stages = {s.name: s for s in summary.stages}
    assert stages["download"].status == "error" and "cannot connect" in stages["download"].detail
    assert stages["ingest"].status == "ok" and stages["plot"].status == "ok"
    assert summary.had_failures
    skipped = update(settings, catalog, fetch=False)
    assert {s.name: s.status for s in skipped.stages}["download"] == "skipped" and not skipped.had_failures


def test_run_is_refused_while_an_ingest_holds_the_lock(catalog: Catalog, tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home")
    with (state.IngestLockHandle.acquire(catalog, command="hstlc ingest (test)"),
          pytest.raises(IngestLockedError, match="another ingest is running")):
        update(settings, catalog, fetch=False)

