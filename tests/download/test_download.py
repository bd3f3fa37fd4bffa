"""``hstlc.download`` against a MAST Search API served on 127.0.0.1 (tests/support/mast.py)."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from pathlib import Path

import pytest

from hstlc.catalog import Catalog, upsert_bad_data, upsert_metadata
from hstlc.config import Settings
from hstlc.download import DownloadFilters, download
from hstlc.download.selection import file_name_problem
from hstlc.download.transfer import PART_PREFIX
from hstlc.errors import DownloadError
from support.ingest import make_settings
from support.mast import MastServer

TODAY = dt.date(2026, 12, 7)
WANTED = {
    "lb4m01aaq_corrtag_a.fits", "lb4m01aaq_corrtag_b.fits", "lb4m01aaq_x1d.fits", "lb4m02abq_corrtag.fits",
    "o8k401010_tag.fits", "o8k401010_x1d.fits",
}


def settings_for(tmp_path: Path, server: MastServer, **overrides: object) -> Settings:
    values: dict[str, object] = {"mast_url": server.url, "download_timeout": 2.0, "download_backoff": 0.01,
                                 "download_retries": 2}
    values.update(overrides)
    return make_settings(tmp_path / "home", **values)


def fetched(settings: Settings) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in settings.ingest_dir.iterdir()}


def original(server: MastServer, name: str) -> bytes:
    path = server.file(name)
    assert path is not None
    return path.read_bytes()


def test_fetches_the_selection_byte_for_byte_and_keeps_the_query(tmp_path: Path, mast: MastServer) -> None:
    settings = settings_for(tmp_path, mast)
    summary = download(settings, today=TODAY)
    files = fetched(settings)
    assert set(files) == WANTED  # no wavecal (WAVE, calibration), nothing not yet public, no _spt
    assert all(files[name] == original(mast, name) for name in WANTED)
    assert summary.found == 3 and not summary.failed and len(summary.downloaded) == 6
    assert summary.bytes_downloaded == sum(len(b) for b in files.values())
    record = json.loads(summary.query_record.read_text())  # type: ignore[union-attr]
    assert summary.query_record.parent == settings.download_dir  # type: ignore[union-attr]
    assert {"sci_operating_mode": "TIME-TAG"} in record["conditions"]
    assert {"sci_release_date": "<2026-12-07"} in record["conditions"]
    assert {"sci_instrume": "COS,STIS"} in record["conditions"]
    assert [s["dataset"] for s in record["selected"]] == ["O8K401010", "LB4M01AAQ", "LB4M02ABQ"]
    # the whole file list is fetched in start-time order; a second run finds everything known on disk
    again = download(settings, today=TODAY)
    assert again.found == 0 and sorted(again.known) == ["LB4M01AAQ", "LB4M02ABQ", "O8K401010"]


@pytest.mark.parametrize("transfers", [1, 4])
def test_parallel_transfers_give_the_same_files(tmp_path: Path, mast: MastServer, transfers: int) -> None:
    settings = settings_for(tmp_path, mast, download_transfers=transfers)
    download(settings, today=TODAY)
    assert fetched(settings) == {name: original(mast, name) for name in WANTED}


def test_datasets_the_catalog_knows_are_skipped(tmp_path: Path, mast: MastServer, catalog: Catalog) -> None:
    settings = settings_for(tmp_path, mast)
    with catalog.session() as session:
        upsert_metadata(session, "lb4m01aaq_corrtag_a.fits", path="/data", rootname="lb4m01aaq")
        upsert_bad_data(session, "o8k401010_tag.fits", ["Bad EXPFLAG"])
    summary = download(settings, catalog=catalog, today=TODAY)
    assert set(fetched(settings)) == {"lb4m02abq_corrtag.fits"}
    assert sorted(summary.known) == ["LB4M01AAQ", "O8K401010"]


def test_a_dataset_waiting_in_ingest_dir_is_not_fetched_again(tmp_path: Path, mast: MastServer) -> None:
    settings = settings_for(tmp_path, mast)
    settings.ingest_dir.mkdir(parents=True)
    (settings.ingest_dir / "lb4m02abq_corrtag.fits").write_bytes(original(mast, "lb4m02abq_corrtag.fits"))
    (settings.ingest_dir / "notes.txt").write_text("mine")
    summary = download(settings, today=TODAY)
    assert summary.known == ["LB4M02ABQ"]
    assert "lb4m02abq_corrtag.fits" not in {t.file.name for t in summary.transfers}
    assert (settings.ingest_dir / "notes.txt").read_text() == "mine"


def test_a_different_file_appearing_under_the_name_is_not_replaced(tmp_path: Path, mast: MastServer) -> None:
    from hstlc.download.mast import MastClient
    from hstlc.download.selection import ProductFile
    from hstlc.download.transfer import fetch

    settings = settings_for(tmp_path, mast)
    folder = settings.ingest_dir
    folder.mkdir(parents=True)
    name = "lb4m02abq_corrtag.fits"
    data = original(mast, name)
    (folder / name).write_bytes(b"someone else's file")
    with MastClient(settings) as client:
        outcome = fetch(client, ProductFile(name, "lb4m02abq", "corrtag", "LB4M02ABQ", len(data)), folder)
    assert outcome.status == "failed" and "a different file is already there" in outcome.reason
    assert (folder / name).read_bytes() == b"someone else's file"
    assert not (folder / f"{PART_PREFIX}{name}").exists()


def test_search_errors_are_retried_then_reported_in_one_line(tmp_path: Path, mast: MastServer) -> None:
    settings = settings_for(tmp_path, mast, download_retries=2)
    mast.faults.search_errors = 2
    assert download(settings, today=TODAY, dry_run=True).found == 3  # two 500s, then an answer
    mast.faults.search_errors = 10
    with pytest.raises(DownloadError) as error:
        download(settings, today=TODAY, dry_run=True)
    message = str(error.value)
    assert message.startswith(f"{mast.url}/search/hst/api/v0.1/search: HTTP 500") and "\n" not in message


def test_a_slow_search_times_out_cleanly(tmp_path: Path, mast: MastServer) -> None:
    settings = settings_for(tmp_path, mast, download_timeout=0.3, download_retries=1)
    mast.faults.search_delay = 2.0
    with pytest.raises(DownloadError, match=r"search: timed out \(setting download_timeout\)"):
        download(settings, today=TODAY, dry_run=True)


def test_an_unreachable_mast_is_one_line(tmp_path: Path) -> None:
    from support.network import refused_url

    settings = make_settings(tmp_path / "home", mast_url=refused_url(""), download_retries=1,
                             download_backoff=0.0, download_timeout=1.0)
    with pytest.raises(DownloadError, match=r"cannot connect"):
        download(settings, today=TODAY)


def test_file_errors_truncation_and_stalls_resume_and_end_identical(tmp_path: Path, mast: MastServer) -> None:
    settings = settings_for(tmp_path, mast, download_timeout=0.5, download_retries=3)
    big = "lb4m01aaq_corrtag_a.fits"
    size = len(original(mast, big))
    mast.faults.error_files["o8k401010_tag.fits"] = 2
    mast.faults.truncate[big] = size // 3
    mast.faults.truncate["lb4m02abq_corrtag.fits"] = 1000
    summary = download(settings, today=TODAY)
    assert not summary.failed
    assert fetched(settings) == {name: original(mast, name) for name in WANTED}
    ranges = [r for m, p, r in mast.requests if m == "GET" and big in p]
    assert ranges[0] is None and len(ranges) == 2  # resumed where the connection broke (the chunk it
    assert size // 3 - (1 << 16) < int(ranges[1][6:-1]) <= size // 3  # was reading lost, at most 64 KiB)


def test_a_stalled_transfer_resumes_after_the_timeout(tmp_path: Path, mast: MastServer) -> None:
    settings = settings_for(tmp_path, mast, download_timeout=0.4, download_retries=2,
                            download_transfers=1)
    name = "o8k401010_tag.fits"
    size = len(original(mast, name))
    mast.faults.stall[name] = size // 2

    def unstall() -> None:  # the server stalls once: after the client has asked twice, serve whole
        while len([r for m, p, r in mast.requests if m == "GET" and name in p]) < 1:
            threading.Event().wait(0.02)
        mast.faults.stall.pop(name, None)

    threading.Thread(target=unstall, daemon=True).start()
    summary = download(settings, today=TODAY, filters=DownloadFilters(instrument="STIS"))
    assert not summary.failed
    assert (settings.ingest_dir / name).read_bytes() == original(mast, name)
    ranges = [r for m, p, r in mast.requests if m == "GET" and name in p]
    assert ranges[0] is None and size // 2 - (1 << 16) < int(ranges[1][6:-1]) <= size // 2


def test_a_wrong_size_is_a_failed_file_and_leaves_nothing_for_ingest(
    tmp_path: Path, mast: MastServer
) -> None:
    settings = settings_for(tmp_path, mast, download_retries=1)
    short, long = "lb4m02abq_corrtag.fits", "o8k401010_x1d.fits"
    mast.faults.listed_size[short] = len(original(mast, short)) + 100  # MAST lists more than it sends
    mast.faults.served_extra[long] = b"x" * 5000  # it sends more than it lists
    summary = download(settings, today=TODAY)
    failures = {t.file.name: t.reason for t in summary.failed}
    assert set(failures) == {short, long}
    assert "ended early" in failures[short] and "more than the" in failures[long]
    names = set(fetched(settings))
    assert short not in names and long not in names
    assert all(not n.startswith(".") or n.startswith(PART_PREFIX) for n in names)


def test_hostile_file_names_never_leave_ingest_dir(tmp_path: Path, mast: MastServer) -> None:
    settings = settings_for(tmp_path, mast)
    hostile = ["../evil_corrtag.fits", "/tmp/lb4m01aaq_corrtag_a.fits", "..",
               "lb4m01aaq_corrtag_a.fits/../../x", ".hstlc-part-lb4m01aaq_x1d.fits", "LB4M01AAQ_X1D.FITS",
               "a\x00b_x1d.fits", "lb4m01aaq_x1d.fits.py"]
    mast.faults.extra_products = [{"filename": name, "size": 10} for name in hostile]
    before = {p for p in tmp_path.rglob("*")}
    summary = download(settings, today=TODAY)
    assert set(fetched(settings)) == WANTED
    new_files = {p for p in tmp_path.rglob("*") if p.is_file()} - before
    assert {p.parent for p in new_files} == {settings.ingest_dir, settings.download_dir}
    assert not any("evil" in p.name for p in new_files)
    assert not Path("/tmp/lb4m01aaq_corrtag_a.fits").exists()
    reasons = set(summary.passed_over.values())
    assert "unsafe file name (a path, not a name)" in reasons
    assert all(file_name_problem(n) is not None for n in hostile)


def test_limit_and_filters(tmp_path: Path, mast: MastServer) -> None:
    settings = settings_for(tmp_path, mast)
    one = download(settings, today=TODAY, limit=1, dry_run=True)
    assert [d.dataset.dataset_id for d in one.planned] == ["O8K401010"]  # the earliest
    cos = download(settings, today=TODAY, dry_run=True, filters=DownloadFilters(instrument="cos"))
    assert [d.dataset.dataset_id for d in cos.planned] == ["LB4M01AAQ", "LB4M02ABQ"]
    target = download(settings, today=TODAY, dry_run=True, filters=DownloadFilters(target="GD71"))
    assert [d.dataset.dataset_id for d in target.planned] == ["LB4M02ABQ"]
    proposal = download(settings, today=TODAY, dry_run=True, filters=DownloadFilters(proposal=9876))
    assert [d.dataset.dataset_id for d in proposal.planned] == ["O8K401010"]
    since = download(settings, today=TODAY, dry_run=True, filters=DownloadFilters(since=dt.date(2014, 6, 2)))
    assert [d.dataset.dataset_id for d in since.planned] == ["LB4M02ABQ"]
    later = download(settings, today=dt.date(2028, 1, 1), dry_run=True)
    assert "LB4M03AAQ" in [d.dataset.dataset_id for d in later.planned]  # public by then
    with pytest.raises(ValueError, match="instrument must be one of COS, STIS"):
        DownloadFilters(instrument="WFC3")


def test_dry_run_writes_nothing(tmp_path: Path, mast: MastServer) -> None:
    settings = settings_for(tmp_path, mast)
    summary = download(settings, today=TODAY, dry_run=True)
    assert summary.found == 3 and sorted(f.name for f in summary.files) == sorted(WANTED)
    assert not (tmp_path / "home").exists()
    assert not any(m == "GET" for m, _, _ in mast.requests)


def test_a_checksum_mast_gives_is_checked(tmp_path: Path, mast: MastServer) -> None:
    from hstlc.download.mast import MastClient
    from hstlc.download.selection import ProductFile
    from hstlc.download.transfer import fetch

    mast.checksums = True  # the product list gives each file's sha256: all match
    settings = settings_for(tmp_path, mast)
    summary = download(settings, today=TODAY)
    assert not summary.failed and all(f.checksum is not None for f in summary.files)
    name = "lb4m02abq_corrtag.fits"
    size = len(original(mast, name))
    folder = tmp_path / "other"
    folder.mkdir()
    wrong = ProductFile(name, "lb4m02abq", "corrtag", "LB4M02ABQ", size, ("sha256", "0" * 64))
    with MastClient(settings_for(tmp_path, mast, download_retries=0)) as client:
        outcome = fetch(client, wrong, folder)
    assert outcome.status == "failed" and "where MAST lists 000000000000" in outcome.reason
    assert list(folder.iterdir()) == []  # neither the file nor its partial copy


def test_one_download_at_a_time(tmp_path: Path, mast: MastServer) -> None:
    import fcntl

    settings = settings_for(tmp_path, mast)
    settings.ingest_dir.mkdir(parents=True)
    fd = os.open(settings.ingest_dir, os.O_RDONLY | os.O_DIRECTORY)  # as a download running into it holds
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(DownloadError, match="another 'hstlc download' is running into this folder"):
            download(settings, today=TODAY)
    finally:
        os.close(fd)
    assert download(settings, today=TODAY).downloaded  # the lock released: the next one runs
    assert not [p.name for p in settings.ingest_dir.iterdir() if p.name.startswith(".")]  # no lock file left
