"""hstlc.ingestion.ingest on every catalog backend: quarantine, metadata, products, composites, idempotence,
changed inputs, failures, hostile target names, kill points (deterministic), the lock, 1 vs 2 cores."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from hstlc.catalog import Catalog
from hstlc.catalog.ingest_state import IngestLockedError, IngestLockHandle
from hstlc.catalog.schema import BadData, IngestDataset, Metadata, Outputs
from hstlc.ingestion import ingest
from hstlc.ingestion.work import target_folder
from hstlc.products import read_lightcurve
from support.ingest import (
    SMALL,
    Killed,
    assert_products_equal,
    catalog_snapshot,
    copy_tree,
    kill_after,
    make_sample,
    make_settings,
    release_as_if_killed,
    sha,
    tree,
)

WD_COMPOSITE = "hlsp_hstlc_hst_cos-fuv_wd0308-565_g130m_1291_psa_v1_sci.fits"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, list[Path]]]:
    """Generated once per module; each test copies it."""
    base = tmp_path_factory.mktemp("sample")
    files = make_sample(base / "incoming", base / "lref")
    return base / "incoming", base / "lref", files


@pytest.fixture
def work(tmp_path: Path, sample: tuple[Path, Path, dict[str, list[Path]]]) -> tuple[Path, Path]:
    incoming, lref, _ = sample
    return copy_tree(incoming, tmp_path / "incoming"), copy_tree(lref, tmp_path / "lref")


def _catalog(url: str) -> Catalog:
    cat = Catalog.from_url(url)
    cat.init_schema()
    return cat


@pytest.mark.slow
def test_ingest_end_to_end(catalog: Catalog, work: tuple[Path, Path], tmp_path: Path) -> None:
    incoming, lref = work
    (incoming / "README.txt").write_text("not data")
    inputs = {p.name: sha(p) for p in incoming.iterdir()}
    settings = make_settings(tmp_path / "home", lref)
    summary = ingest(incoming, settings=settings, catalog=catalog)

    assert sorted(summary.ingested) == ["lb4m01aaq", "lb4m01abq", "lb4m02aaq"]
    assert summary.bad == {"Bad EXPFLAG": ["lb4m09aaq"]}
    assert summary.failed == {} and summary.unchanged == []
    skipped = [(s.path.name, s.reason) for s in summary.skipped]
    assert skipped == [("README.txt", "not a corrtag, tag or x1d file")]
    assert sorted(p.name for p in summary.composites) == [
        "hlsp_hstlc_hst_cos-fuv_ad-leo_g160m_1577_psa_v1_sci.fits",
        "hlsp_hstlc_hst_cos-fuv_wd0308-565_g130m_1291_psa_v1_sci.fits",
    ]
    # Only the unknown file stays; the data are filed by target, the bad pair quarantined.
    assert [p.name for p in incoming.iterdir()] == ["README.txt"]
    fs, bad_dir = settings.filesystem_dir, settings.bad_data_dir
    assert sorted(p.name for p in (fs / "WD0308-565").iterdir()) == [
        "lb4m01aaq_corrtag_a.fits", "lb4m01aaq_corrtag_b.fits", "lb4m01abq_corrtag_a.fits",
        "lb4m01abq_corrtag_b.fits",
    ]
    assert sorted(p.name for p in bad_dir.iterdir()) == ["lb4m09aaq_corrtag_a.fits",
                                                         "lb4m09aaq_corrtag_b.fits"]
    for folder in (fs, bad_dir):
        for p in folder.rglob("*.fits"):
            assert sha(p) == inputs[p.name]

    with catalog.session() as s:
        rows = {m.filename: m for m in s.execute(select(Metadata)).scalars()}
        assert sorted(rows) == ["lb4m01aaq_corrtag_a.fits", "lb4m01aaq_corrtag_b.fits",
                                "lb4m01abq_corrtag_a.fits", "lb4m01abq_corrtag_b.fits",
                                "lb4m02aaq_corrtag_b.fits"]
        m = rows["lb4m02aaq_corrtag_b.fits"]
        assert (m.instrume, m.detector, m.opt_elem, m.cenwave, m.aperture, m.fppos, m.segment) == (
            "COS", "FUV", "G160M", 1577, "PSA", 3, "FUVB")
        assert (m.targname, m.targname_orig, m.targname_key, m.rootname) == ("AD-LEO", "AD-LEO", "AD-LEO",
                                                                             "lb4m02aaq")
        assert m.path == str(fs / "AD-LEO") and m.sha256 == inputs[m.filename]
        assert m.exptime == pytest.approx(SMALL["exptime"]) and m.proposid == 12345 and m.telescop == "HST"
        assert m.expstart == pytest.approx(55502.0)
        outputs = {o.metadata_row.filename: o for o in s.execute(select(Outputs)).scalars()}
        assert set(outputs) == set(rows)
        o = outputs["lb4m01abq_corrtag_b.fits"]
        assert (o.individual_path, o.individual_filename) == (str(settings.outputs_dir / "WD0308-565"),
                                                              "lb4m01abq_curve.fits")
        assert (o.composite_path, o.composite_filename) == (
            str(settings.composite_dir), "hlsp_hstlc_hst_cos-fuv_wd0308-565_g130m_1291_psa_v1_sci.fits")
        bad = {b.filename: b for b in s.execute(select(BadData)).scalars()}
        assert sorted(bad) == ["lb4m09aaq_corrtag_a.fits", "lb4m09aaq_corrtag_b.fits"]
        assert {b.reason for b in bad.values()} == {"Bad EXPFLAG"}
        assert all(b.path == str(bad_dir) and b.sha256 == inputs[b.filename] for b in bad.values())
        markers = {d.rootname: d.status for d in s.execute(select(IngestDataset)).scalars()}
        assert markers == {"lb4m01aaq": "done", "lb4m01abq": "done", "lb4m02aaq": "done", "lb4m09aaq": "bad"}

    individual = read_lightcurve(settings.outputs_dir / "WD0308-565" / "lb4m01aaq_curve.fits")
    assert len(individual) > 0 and set(np.unique(individual.dataset)) == {1}
    composite = read_lightcurve(settings.composite_dir / WD_COMPOSITE)
    assert list(np.unique(composite.dataset)) == [1, 2]
    assert np.all(np.diff(composite.times) > 0)


@pytest.mark.slow
def test_rerun_changes_nothing(catalog: Catalog, work: tuple[Path, Path], tmp_path: Path) -> None:
    incoming, lref = work
    settings = make_settings(tmp_path / "home", lref)
    ingest(incoming, settings=settings, catalog=catalog)
    home = Path(settings.home_dir)
    before = catalog_snapshot(catalog, home)
    stamps = {p: p.stat().st_mtime_ns for p in home.rglob("*.fits")}
    with catalog.session() as s:
        dates = sorted((m.filename, m.ingest_date) for m in s.execute(select(Metadata)).scalars())

    again = ingest(incoming, settings=settings, catalog=catalog)
    assert (again.ingested, again.bad, again.failed, again.composites) == ([], {}, {}, [])
    assert catalog_snapshot(catalog, home) == before
    assert {p: p.stat().st_mtime_ns for p in home.rglob("*.fits")} == stamps
    with catalog.session() as s:
        assert sorted((m.filename, m.ingest_date) for m in s.execute(select(Metadata)).scalars()) == dates


@pytest.mark.slow
def test_identical_copy_is_left_alone_and_a_changed_file_updates(
    catalog: Catalog, work: tuple[Path, Path], tmp_path: Path
) -> None:
    from hstlc import synthetic as syn

    incoming, lref = work
    first_pair = {p.name: p.read_bytes() for p in incoming.glob("lb4m01aaq_*")}
    settings = make_settings(tmp_path / "home", lref)
    ingest(incoming, settings=settings, catalog=catalog)
    product = settings.outputs_dir / "WD0308-565" / "lb4m01aaq_curve.fits"
    composite = settings.composite_dir / WD_COMPOSITE
    old_curve, old_composite = read_lightcurve(product), read_lightcurve(composite)

    # The same files again: already ingested, left where they are.
    for name, data in first_pair.items():
        (incoming / name).write_bytes(data)
    same = ingest(incoming, settings=settings, catalog=catalog)
    assert same.unchanged == ["lb4m01aaq"] and same.ingested == [] and same.composites == []
    assert sorted(p.name for p in incoming.iterdir()) == sorted(first_pair)
    for p in incoming.iterdir():
        p.unlink()

    # A new version (another seed, twice the rate): rows, product and composite are updated.
    new = syn.make_cos_fuv(incoming, "lb4m01aaq", targname="WD0308-565", expstart=55500.25,
                           reference_dir=lref, seed=99, **{**SMALL, "source_rate": 16.0})
    changed = ingest(incoming, settings=settings, catalog=catalog)
    assert changed.ingested == ["lb4m01aaq"] and changed.failed == {}
    assert [p.name for p in changed.composites] == [composite.name]
    folder = settings.filesystem_dir / "WD0308-565"
    with catalog.session() as s:
        row = s.execute(select(Metadata).filter_by(filename="lb4m01aaq_corrtag_a.fits")).scalar_one()
        assert row.sha256 == sha(folder / "lb4m01aaq_corrtag_a.fits")
        assert s.execute(select(Metadata)).scalars().all().__len__() == 5  # updated, not duplicated
    assert sha(folder / "lb4m01aaq_corrtag_a.fits") != sha_bytes(first_pair["lb4m01aaq_corrtag_a.fits"])
    # The previous version is kept, never overwritten.
    kept = sorted((folder / "superseded").rglob("*.fits"))
    assert sorted(sha(p) for p in kept) == sorted(sha_bytes(d) for d in first_pair.values())
    assert read_lightcurve(product).gross.sum() > 1.5 * old_curve.gross.sum()
    assert read_lightcurve(composite).gross.sum() > old_composite.gross.sum()
    assert new.rootname == "lb4m01aaq"


def sha_bytes(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


@pytest.mark.slow
def test_a_failing_dataset_is_recorded_and_left_in_place(
    catalog: Catalog, work: tuple[Path, Path], tmp_path: Path
) -> None:
    incoming, lref = work
    (incoming / "lb4m07aaq_corrtag_a.fits").write_bytes(b"SIMPLE  =                    T" + b" " * 50)
    settings = make_settings(tmp_path / "home", lref)
    summary = ingest(incoming, settings=settings, catalog=catalog)
    assert set(summary.failed) == {"lb4m07aaq"}
    assert summary.failed["lb4m07aaq"].startswith("lb4m07aaq_corrtag_a.fits: ")
    assert sorted(summary.ingested) == ["lb4m01aaq", "lb4m01abq", "lb4m02aaq"]
    assert (incoming / "lb4m07aaq_corrtag_a.fits").exists()
    with catalog.session() as s:
        marker = s.execute(select(IngestDataset).filter_by(rootname="lb4m07aaq")).scalar_one()
        assert marker.status == "failed" and marker.reason == summary.failed["lb4m07aaq"]
    again = ingest(incoming, settings=settings, catalog=catalog)  # still failing, still one row
    assert set(again.failed) == {"lb4m07aaq"}
    with catalog.session() as s:
        assert len(s.execute(select(IngestDataset).filter_by(rootname="lb4m07aaq")).scalars().all()) == 1


@pytest.mark.slow
def test_a_different_file_in_the_way_fails_the_dataset_without_moving_anything(
    catalog: Catalog, work: tuple[Path, Path], tmp_path: Path
) -> None:
    incoming, lref = work
    settings = make_settings(tmp_path / "home", lref)
    blocker = settings.filesystem_dir / "AD-LEO" / "lb4m02aaq_corrtag_b.fits"
    blocker.parent.mkdir(parents=True)
    blocker.write_bytes(b"someone else's file")
    summary = ingest(incoming, settings=settings, catalog=catalog)
    assert "a different file already exists" in summary.failed["lb4m02aaq"]
    assert blocker.read_bytes() == b"someone else's file"
    assert (incoming / "lb4m02aaq_corrtag_b.fits").exists()


HOSTILE = ["../../x", "/etc/passwd", "..", ".hidden", "A" * 300, "..\\..\\win", "CON", "a/../../b"]


@pytest.mark.slow
def test_hostile_target_names_stay_inside_the_configured_folders(catalog: Catalog, tmp_path: Path) -> None:
    from hstlc import synthetic as syn

    incoming, lref = tmp_path / "in" / "incoming", tmp_path / "in" / "lref"
    for i, name in enumerate(HOSTILE):
        syn.make_cos_fuv(incoming, f"lb4m5{i}aaq", targname=name, segments=("FUVA",), reference_dir=lref,
                         seed=i, **SMALL)
    home = tmp_path / "sandbox" / "home"
    settings = make_settings(home, lref, file_mode=0o750)
    before = {p for p in tmp_path.rglob("*")}
    summary = ingest(incoming, settings=settings, catalog=catalog)
    assert summary.failed == {} and len(summary.ingested) == len(HOSTILE)
    created = {p for p in tmp_path.rglob("*")} - before
    allowed = [settings.filesystem_dir, settings.outputs_dir, settings.composite_dir]
    for path in created:
        if path == home or path in home.parents or path.name == "catalog.db" or path in allowed:
            continue
        assert any(a in path.parents for a in allowed), path
        assert not path.name.startswith("."), path
        assert len(path.name) <= 255
    for folder in {p for p in created if p.is_dir()}:
        if any(a in folder.parents for a in allowed):
            assert stat.S_IMODE(folder.stat().st_mode) == 0o750, folder
    for path in created:
        if path.is_file() and settings.outputs_dir in path.parents:
            assert stat.S_IMODE(path.stat().st_mode) == 0o640, path
    assert not (tmp_path / "x").exists() and not Path("/etc/passwd/lb4m51aaq_corrtag_a.fits").exists()
    with catalog.session() as s:
        origs = {m.targname_orig for m in s.execute(select(Metadata)).scalars()}
    assert "/etc/passwd" in origs and "A" * 255 in origs


@pytest.mark.parametrize("name", ["a\x00b", "\x1b[31mred", "x\n/../..", "\u202e..", "", " ", "...."])
def test_target_folder_of_any_name_is_one_component(tmp_path: Path, name: str) -> None:
    folder = target_folder(tmp_path, name)
    assert folder.parent == tmp_path and not folder.name.startswith(".")
    assert all(ord(c) >= 32 for c in folder.name) and "/" not in folder.name and "\\" not in folder.name


@pytest.mark.slow
@pytest.mark.parametrize("moves", [0, 1, 3, 5])
def test_a_run_killed_mid_filing_is_finished_by_the_next(
    catalog_url: str, work: tuple[Path, Path], tmp_path: Path, moves: int
) -> None:
    incoming, lref = work
    reference_in = copy_tree(incoming, tmp_path / "reference-in")
    ref_settings = make_settings(tmp_path / "ref", lref)
    catalog = _catalog(catalog_url)  # the reference run on the same backend, then a fresh schema
    ingest(reference_in, settings=ref_settings, catalog=catalog)
    expected = catalog_snapshot(catalog, Path(ref_settings.home_dir))
    _reset(catalog)

    settings = make_settings(tmp_path / "home", lref)
    with pytest.raises(Killed):
        ingest(incoming, settings=settings, catalog=catalog, fault=kill_after(moves))
    release_as_if_killed(catalog)
    summary = ingest(incoming, settings=settings, catalog=catalog)
    assert summary.failed == {}
    assert catalog_snapshot(catalog, Path(settings.home_dir)) == expected
    assert tree(Path(settings.home_dir)) == tree(Path(ref_settings.home_dir))
    assert tree(incoming) == tree(reference_in)
    for rel in tree(Path(ref_settings.home_dir)):
        if rel.startswith(("outputs", "composites")):
            assert_products_equal(Path(settings.home_dir) / rel, Path(ref_settings.home_dir) / rel)
    catalog.dispose()


def _reset(catalog: Catalog) -> None:
    from hstlc.catalog.schema import Base

    Base.metadata.drop_all(catalog.engine)
    catalog.init_schema()


def test_ingest_while_another_runs_is_refused(
    catalog: Catalog, work: tuple[Path, Path], tmp_path: Path
) -> None:
    incoming, lref = work
    settings = make_settings(tmp_path / "home", lref)
    refused = pytest.raises(IngestLockedError, match="another ingest is running")
    with IngestLockHandle.acquire(catalog), refused:
        ingest(incoming, settings=settings, catalog=catalog)
    assert len(list(incoming.iterdir())) == 7  # nothing touched


@pytest.mark.slow
def test_one_and_two_cores_give_identical_catalogs(
    catalog_url: str, tmp_path: Path, sample: tuple[Path, Path, dict[str, list[Path]]]
) -> None:
    incoming, lref, _ = sample
    results = []
    catalog = _catalog(catalog_url)
    for cores in (1, 2):
        _reset(catalog)
        folder = copy_tree(incoming, tmp_path / f"in{cores}")
        settings = make_settings(tmp_path / f"home{cores}", lref)
        summary = ingest(folder, settings=settings, catalog=catalog, cores=cores)
        assert summary.failed == {} and summary.cores == cores
        results.append((catalog_snapshot(catalog, Path(settings.home_dir)), tree(Path(settings.home_dir)),
                        Path(settings.home_dir)))
    catalog.dispose()
    assert results[0][0] == results[1][0]
    assert results[0][1] == results[1][1]
    for rel in results[0][1]:
        if rel.startswith(("outputs", "composites")):
            assert_products_equal(results[0][2] / rel, results[1][2] / rel)


def test_missing_folder_and_uninitialised_catalog(tmp_path: Path) -> None:
    from hstlc.errors import InputFileError

    settings = make_settings(tmp_path / "home")
    catalog = Catalog.from_url(f"sqlite:///{tmp_path / 'empty.db'}")
    assert catalog.missing_tables()
    empty = tmp_path / "empty-folder"
    empty.mkdir()
    summary = ingest(empty, settings=settings, catalog=catalog)  # creates the catalog's tables
    assert catalog.missing_tables() == [] and not summary.ingested
    with pytest.raises(InputFileError, match="folder not found"):
        ingest(tmp_path / "nope", settings=settings, catalog=catalog)
    catalog.dispose()
    assert os.path.exists(tmp_path / "empty.db")


@pytest.mark.slow
def test_tuned_allocator_reuses_freed_event_buffers() -> None:
    # A dataset's columns and temporaries (MBs each, of varying sizes) are freed together. By default
    # glibc hands the freed heap back and the next dataset faults every page in again; after
    # tune_allocator the memory is kept and reused.
    import platform
    import subprocess
    import sys

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt tuning is glibc-only")
    script = (
        "import resource, numpy as np\n"
        "from hstlc.ingestion.work import tune_allocator\n"
        "def faults():\n"
        "    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "    for _ in range(10):\n"
        "        columns = [np.ones(n) for n in (200_000, 500_000, 1_000_000, 700_000, 300_000, 900_000)]\n"
        "        del columns\n"
        "    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before\n"
        "faults()\n"
        "default = faults()\n"
        "assert tune_allocator()\n"
        "faults()\n"
        "print(default, faults())\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    default, tuned = map(int, out.stdout.split())
    assert default > 10 * 2000  # 29 MB per round: thousands of page faults each time
    assert tuned < default / 20


@pytest.mark.slow
def test_what_workers_are_sent_loads_without_the_catalog(
    tmp_path: Path, sample: tuple[Path, Path, dict[str, list[Path]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A worker has only WORKER_MODULES (imported by the fork server). If a function or job it is sent
    # lives in hstlc.ingestion outside work.py, unpickling it imports the stages, the catalog and
    # SQLAlchemy: 0.45 s per worker before its first dataset, a fifth of the 2-core ingest benchmark.
    import pickle
    import subprocess
    import sys

    from hstlc.ingestion.work import init_worker, warm_up
    from hstlc.workers import WORKER_MODULES, WorkerPool

    sent: list[tuple[Any, Any]] = []
    run = WorkerPool.run

    def recording(self: WorkerPool, fn: Any, jobs: Any, **kw: Any) -> Any:
        sent.append((fn, jobs[0]))
        return run(self, fn, jobs, **kw)

    monkeypatch.setattr(WorkerPool, "run", recording)
    incoming, lref, _ = sample
    catalog = _catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    summary = ingest(copy_tree(incoming, tmp_path / "in"), settings=make_settings(tmp_path / "home", lref),
                     catalog=catalog, cores=1)
    catalog.dispose()
    assert summary.ingested and summary.composites
    assert len(sent) == 3  # surveys, extractions, composites
    blob = pickle.dumps([init_worker, warm_up, *sent])
    script = (
        "import pickle, sys\n"
        "for name in sys.argv[1:]:\n"
        "    __import__(name)\n"
        "pickle.loads(sys.stdin.buffer.read())\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'typer', 'rich')\n"
        "                      or m.startswith(('hstlc.catalog', 'hstlc.cli', 'hstlc.workers'))\n"
        "                      or (m.startswith('hstlc.ingestion.')\n"
        "                          and m not in ('hstlc.ingestion.work', 'hstlc.ingestion.discovery')))))\n"
    )
    modules = [m for m in WORKER_MODULES if m != "__main__"]
    out = subprocess.run([sys.executable, "-c", script, *modules], input=blob, capture_output=True,
                         check=True)
    assert out.stdout.decode().split() == []
