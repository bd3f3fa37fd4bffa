"""Shared helpers of the ingest tests (no tests here): small generated samples, catalog and tree snapshots."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from hstlc.catalog import Catalog
from hstlc.catalog.schema import BadData, CompositeQueue, IngestDataset, Metadata, Outputs
from hstlc.config import Settings, load_settings

SMALL = {"exptime": 120.0, "source_rate": 8.0, "background_rate": 0.002, "timeline": False}


def make_settings(home: Path, lref: Path | None = None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"home_dir": home, "resolver_offline": True, "step": 10.0}
    if lref is not None:
        values["lref_dir"] = lref
    values.update(overrides)
    return load_settings(overrides=values).settings


def make_sample(
    incoming: Path, lref: Path, *, bad: bool = True, extra: bool = False
) -> dict[str, list[Path]]:
    """A few small datasets: WD target twice (an FUV composite), a B-only FUV, optionally a bad pair.

    Returns rootname → the files written into ``incoming``.
    """
    from hstlc import synthetic as syn

    out: dict[str, list[Path]] = {}

    def keep(ds: Any) -> None:
        out[ds.rootname] = [p for p in ds.files if Path(p).parent == incoming]

    keep(syn.make_cos_fuv(incoming, "lb4m01aaq", targname="WD0308-565", expstart=55500.25, reference_dir=lref,
                          seed=1, **SMALL))
    keep(syn.make_cos_fuv(incoming, "lb4m01abq", targname="WD0308-565", expstart=55501.5, reference_dir=lref,
                          seed=2, **SMALL))
    keep(syn.make_cos_fuv(incoming, "lb4m02aaq", targname="AD-LEO", opt_elem="G160M", cenwave=1577,
                          segments=("FUVB",), expstart=55502.0, reference_dir=lref, seed=3, **SMALL))
    if bad:
        keep(syn.make_cos_fuv(incoming, "lb4m09aaq", targname="WD0308-565", seed=4,
                              **{**SMALL, **syn.BAD_CONDITIONS["Bad EXPFLAG"]}))
    if extra:
        keep(syn.make_cos_fuv(incoming, "lb4m03aaq", targname="WD0308-565", expstart=55503.0,
                              reference_dir=lref, seed=5, **SMALL))
        keep(syn.make_cos_fuv(incoming, "lb4m04aaq", targname="GD71", expstart=55504.0,
                              reference_dir=lref, seed=6, **SMALL))
    return out


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rel(value: Any, home: Path) -> Any:
    if isinstance(value, str) and value.startswith(str(home)):
        return "<home>" + value[len(str(home)):]
    if isinstance(value, list):
        return [_rel(v, home) for v in value]
    if isinstance(value, dict):
        return {k: _rel(v, home) for k, v in value.items()}
    return value


def catalog_snapshot(catalog: Catalog, home: Path) -> dict[str, Any]:
    """Every ingest-written row, without ids and dates, with paths relative to ``home``."""
    snap: dict[str, Any] = {}
    with catalog.session() as s:
        meta = {m.id: m for m in s.execute(select(Metadata)).scalars()}
        snap["metadata"] = sorted(
            tuple(sorted((k, _rel(getattr(m, k), home)) for k in Metadata.__table__.columns.keys()  # noqa: SIM118
                         if k not in ("id", "ingest_date")))
            for m in meta.values()
        )
        snap["outputs"] = sorted(
            (meta[o.metadata_id].filename, _rel(o.individual_path, home), o.individual_filename,
             _rel(o.composite_path, home), o.composite_filename)
            for o in s.execute(select(Outputs)).scalars()
        )
        snap["bad_data"] = sorted(
            (b.filename, b.reason, _rel(b.path, home), b.sha256) for b in s.execute(select(BadData)).scalars()
        )
        snap["datasets"] = sorted(
            (d.rootname, d.status, d.fingerprint, repr(_rel(d.files, home)), _rel(d.primary_path, home),
             d.config_key, d.targname, d.plan)
            for d in s.execute(select(IngestDataset)).scalars()
        )
        snap["queue"] = sorted(q.config_key for q in s.execute(select(CompositeQueue)).scalars())
    return snap


def tree(root: Path, *, skip: Iterable[str] = ("logs", "hstlc.db")) -> list[str]:
    """Relative paths of the files under ``root`` (without the log folder and the SQLite catalog)."""
    skipped = set(skip)
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).parts[0] not in skipped
    )


def product_data(path: Path) -> dict[str, np.ndarray]:
    from hstlc.products import read_lightcurve

    return read_lightcurve(path).columns()


def assert_products_equal(a: Path, b: Path) -> None:
    da, db = product_data(a), product_data(b)
    assert da.keys() == db.keys()
    for key in da:
        np.testing.assert_array_equal(da[key], db[key], err_msg=f"{a.name}: column {key}")


class Killed(BaseException):
    """Stands for a SIGKILL in a filer fault hook: nothing after it runs, no journal is cleaned up."""


def kill_after(moves: int) -> Callable[[str, str, Any], None]:
    """A filer fault hook that kills the run (raises :class:`Killed`) before move number ``moves + 1``."""
    count = {"n": 0}

    def hook(step: str, rootname: str, move: Any) -> None:
        if step == "move":
            if count["n"] >= moves:
                raise Killed
            count["n"] += 1

    return hook


def dead_pid() -> int:
    """The pid of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def release_as_if_killed(catalog: Catalog) -> None:
    """Make the ingest lock a run in this process left (:class:`Killed`: never released, its pid ours,
    alive) look like that of a dead process, as after a real SIGKILL."""
    from sqlalchemy import update

    from hstlc.catalog.schema import IngestLock

    with catalog.session() as session:
        session.execute(update(IngestLock).values(pid=dead_pid()))
