"""``hstlc demo``: generate a realistic sample set and run the whole pipeline on it, offline, on SQLite.

The sample (all from :mod:`hstlc.synthetic`, seeded, in the real file formats): a COS FUV G130M target
observed twice (two ``_corrtag_a/_b`` pairs → one composite of two members), a flaring COS FUV source,
a constant COS NUV source, a periodic STIS FUV-MAMA source (``_tag`` + ``_x1d``), and two bad datasets
(EXPFLAG and a too-short exposure) that end up in quarantine. COS reference tables go into ``lref/``,
STIS ones into ``oref/``. The demo writes ``hstlc.toml`` in the folder (target-name resolution offline),
then runs ``db init``, ``ingest``, ``stats`` and ``plot``.

Running the demo again on the same folder generates nothing new: it re-runs the steps (which then have
nothing to do) and prints where everything is. Run without a folder inside a demo folder (or below
one), it re-runs that demo rather than nesting a new one (:func:`default_directory`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hstlc.catalog import Catalog
from hstlc.config import CONFIG_FILENAME, DIRECTORY_DEFAULTS, Settings, load_settings
from hstlc.errors import ConfigError
from hstlc.ingestion import IngestSummary, ProgressCallback, ingest
from hstlc.product_stats import run_stats
from hstlc.report import build_report

log = logging.getLogger(__name__)

DEFAULT_DIRECTORY = Path("hstlc-demo")
INCOMING = "incoming"

#: The first line of the settings file a demo writes: how a demo folder is recognised.
MARKER = "# Written by `hstlc demo`"

_TOML = MARKER + """: settings for the generated sample (paths are relative to this file).
home_dir = "."
ingest_dir = "{incoming}"
lref_dir = "lref"
oref_dir = "oref"
resolver_offline = true
num_cores = {cores}
step = {step}
"""


@dataclass
class DemoResult:
    """Where the demo put everything and what each step did."""

    directory: Path
    config_file: Path
    catalog_url: str
    generated: list[Path] = field(default_factory=list)
    ingest: IngestSummary | None = None
    stats_computed: int | None = None
    """Products whose statistics were computed (None: the run stopped before the stats)."""
    report: Path | None = None
    settings: Settings | None = field(default=None, repr=False)

    @property
    def outputs_dir(self) -> Path | None:
        return None if self.settings is None else self.settings.outputs_dir

    @property
    def composite_dir(self) -> Path | None:
        return None if self.settings is None else self.settings.composite_dir

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "config_file": str(self.config_file),
            "catalog": self.catalog_url,
            "generated_files": len(self.generated),
            "ingest": self.ingest.to_dict() if self.ingest else None,
            "stats_computed": self.stats_computed,
            "report": str(self.report) if self.report else None,
            "outputs_dir": str(self.outputs_dir) if self.outputs_dir else None,
            "composite_dir": str(self.composite_dir) if self.composite_dir else None,
        }


def generate_sample(incoming: Path, lref: Path, oref: Path, *, scale: float = 1.0) -> list[Path]:
    """Write the demo's datasets into ``incoming`` (reference tables into ``lref``/``oref``).

    ``scale`` multiplies exposure times (1.0: a few hundred thousand events in total).
    """
    from hstlc import synthetic as syn

    for folder in (incoming, lref, oref):
        folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def keep(dataset: Any) -> None:
        written.extend(p for p in dataset.files if Path(p).parent == incoming)

    exptime = max(60.0, 900.0 * scale)
    # One white dwarf observed twice with the same configuration (a two-member composite).
    for i, (root, expstart) in enumerate((("lb4m01aaq", 55500.25), ("lb4m01abq", 55502.75))):
        keep(syn.make_cos_fuv(incoming, root, targname="WD0308-565", expstart=expstart, exptime=exptime,
                              source_rate=60.0, reference_dir=lref, seed=10 + i))
    # A flaring M dwarf.
    keep(syn.make_cos_fuv(incoming, "lb4m02aaq", targname="AD-LEO", opt_elem="G160M", cenwave=1577,
                          expstart=55510.5, exptime=exptime, source_rate=40.0,
                          signal=syn.flare(peak=0.4 * exptime, amplitude=4.0, decay=0.05 * exptime),
                          reference_dir=lref, seed=20))
    # A constant NUV source.
    make_nuv = getattr(syn, "make_cos_nuv", None)
    if make_nuv is not None:
        keep(make_nuv(incoming, "lb4m03aaq", targname="HD 93521", expstart=55520.1, exptime=exptime,
                      signal=syn.constant(), reference_dir=lref, seed=30))
    else:
        log.warning("the generator has no COS NUV maker; the demo has no NUV source")
    # A periodic STIS source.
    make_stis = getattr(syn, "make_stis_tag", None)
    make_stis_refs = getattr(syn, "make_stis_reference_files", None)
    if make_stis is not None:
        kwargs: dict[str, Any] = {}
        if make_stis_refs is not None:
            kwargs["reference_dir"] = oref
        keep(make_stis(incoming, "o8k401010", targname="V-AM-CVN", expstart=55530.6, exptime=exptime,
                       signal=syn.sinusoid(period=max(60.0, exptime / 6.0), amplitude=0.5), seed=40,
                       **kwargs))
    else:
        log.warning("the generator has no STIS maker; the demo has no STIS source")
    # Two bad datasets: quarantined with their reasons.
    keep(syn.make_cos_fuv(incoming, "lb4m04aaq", targname="WD0308-565", expstart=55540.0, exptime=exptime,
                          source_rate=20.0, seed=50, **syn.BAD_CONDITIONS["Bad EXPFLAG"]))
    keep(syn.make_cos_fuv(incoming, "lb4m05aaq", targname="AD-LEO", expstart=55541.0, seed=60,
                          segments=("FUVA",), **syn.BAD_CONDITIONS["Short Exposure"]))
    return sorted(set(written))


def is_demo_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a demo: the settings file a demo writes, and its ``incoming`` folder."""
    try:
        with (folder / CONFIG_FILENAME).open(encoding="utf-8") as handle:
            first = handle.readline()
    except (OSError, UnicodeDecodeError):
        return False
    return first.startswith(MARKER) and (folder / INCOMING).is_dir()


def default_directory(cwd: str | os.PathLike[str] | None = None) -> Path:
    """Where ``hstlc demo`` without a folder runs: the demo folder ``cwd`` is in (itself or one of its
    parents), so a demo is never nested inside another, else ``<cwd>/hstlc-demo``."""
    here = Path.cwd() if cwd is None else Path(cwd).expanduser().absolute()
    for folder in (here, *here.parents):
        if is_demo_folder(folder):
            return folder
    return here / DEFAULT_DIRECTORY


def write_demo_config(directory: Path, *, cores: int = 1, step: float = 5.0) -> Path:
    """Write ``hstlc.toml`` for the demo folder and return its path (kept if it exists)."""
    path = directory / CONFIG_FILENAME
    if not path.exists():
        path.write_text(_TOML.format(incoming=INCOMING, cores=int(cores), step=float(step)), encoding="utf-8")
    return path


def demo_overrides(folder: Path, *, cores: int = 1) -> dict[str, Any]:
    """Settings that pin everything the demo touches inside ``folder`` (whatever ``HSTLC_*`` says)."""
    values: dict[str, Any] = {name: folder / sub for name, sub in DIRECTORY_DEFAULTS.items()}
    values.update(
        home_dir=folder,
        ingest_dir=folder / INCOMING,
        db_connection_string=f"sqlite:///{folder / 'hstlc.db'}",
        lref_dir=folder / "lref",
        oref_dir=folder / "oref",
        alias_file=folder / "aliases.csv",
        resolver_offline=True,
        num_cores=cores,
    )
    return values


def run_demo(
    directory: str | os.PathLike[str] = DEFAULT_DIRECTORY,
    *,
    cores: int = 1,
    scale: float = 1.0,
    progress: ProgressCallback | None = None,
    on_step: Callable[[str], None] | None = None,
) -> DemoResult:
    """Generate the sample in ``directory`` (unless a previous demo did); db init → ingest → stats → plot.

    Returns a :class:`DemoResult`; an ingest that leaves failures is reported in it, not raised.
    """
    folder = Path(directory).expanduser().absolute()
    folder.mkdir(parents=True, exist_ok=True)

    def step(text: str) -> None:
        log.info("demo: %s", text)
        if on_step is not None:
            on_step(text)

    fresh = not (folder / CONFIG_FILENAME).exists()
    if not fresh and not (folder / INCOMING).is_dir():
        raise ConfigError(f"{folder / CONFIG_FILENAME}: exists but this is not a demo folder; choose another")
    config_file = write_demo_config(folder, cores=cores)
    settings = load_settings(config_file, demo_overrides(folder, cores=cores)).settings
    result = DemoResult(folder, config_file, settings.database_url, settings=settings)
    if fresh:
        step(f"generating the sample data in {folder / INCOMING}")
        result.generated = generate_sample(folder / INCOMING, settings.lref_dir or folder / "lref",
                                           settings.oref_dir or folder / "oref")
    catalog = Catalog.from_url(settings.database_url)
    try:
        if catalog.missing_tables():
            step(f"creating the catalog {catalog.url}")
        else:
            step(f"using the existing catalog {catalog.url}")
        catalog.init_schema()
        step("ingesting")
        result.ingest = ingest(settings.ingest_dir, settings=settings, catalog=catalog, offline=True,
                               progress=progress)
        step("computing statistics")
        outcomes = run_stats(catalog, settings)
        result.stats_computed = sum(1 for o in outcomes if o.status == "computed")
        step("building the report")
        result.report = build_report(catalog, settings).index
    finally:
        catalog.dispose()
    return result


__all__ = [
    "DEFAULT_DIRECTORY",
    "MARKER",
    "DemoResult",
    "default_directory",
    "demo_overrides",
    "generate_sample",
    "is_demo_folder",
    "run_demo",
    "write_demo_config",
]
