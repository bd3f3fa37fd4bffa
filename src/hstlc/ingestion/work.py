"""The work ingest hands to worker processes: reading, checking, extracting, writing products.

Everything here runs in a worker (or in the main process with one core) and never touches the
database: results go back to the main process, the only catalog writer. Functions are top-level and
take and return picklable values (spawn-safe). Log records made in a worker are collected and returned
with the result so that the main process writes them to the run's log file.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from hstlc.config import Settings
from hstlc.domain import Observation
from hstlc.errors import HstlcError
from hstlc.filing import apply_group, ensure_dir
from hstlc.ingestion.discovery import Candidate
from hstlc.safe_paths import safe_component, safe_join

if TYPE_CHECKING:  # the extraction engine is imported by the workers only
    from hstlc.extraction import MemberWindow

log = logging.getLogger(__name__)

T = TypeVar("T")

WORKER_NICENESS = 5

#: glibc ``mallopt`` parameters (malloc.h) and the values :func:`tune_allocator` sets.
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
ALLOCATOR_SETTINGS: tuple[tuple[int, int], ...] = (
    (_M_MMAP_THRESHOLD, 32 << 20),  # blocks up to 32 MiB (an event column of 4 M events) from the heap
    (_M_TRIM_THRESHOLD, 256 << 20),  # keep up to 256 MiB of freed heap for the next dataset
    (_M_TOP_PAD, 16 << 20),
)

#: Header values kept for the ``metadata`` row of each event file.
METADATA_FIELDS: tuple[str, ...] = (
    "telescop",
    "instrume",
    "detector",
    "segment",
    "obstype",
    "opt_elem",
    "cenwave",
    "aperture",
    "fppos",
    "targname",
    "ra_targ",
    "dec_targ",
    "proposid",
    "cal_ver",
    "expstart",
    "expend",
    "exptime",
)


@dataclass(frozen=True)
class FileInfo:
    """One file of a dataset: where it is, its name, sha256 and role (``input`` or ``derived``)."""

    path: str
    name: str
    sha256: str
    role: str = "input"


@dataclass(frozen=True)
class SurveyResult:
    """What a worker learnt about a dataset without extracting it."""

    rootname: str
    files: tuple[FileInfo, ...] = ()
    reasons: tuple[str, ...] = ()
    """Failing quality checks (empty: the dataset is good)."""
    observations: tuple[dict[str, Any], ...] = ()
    """Per event file: ``filename`` and the :data:`METADATA_FIELDS` values."""
    error: str | None = None
    seconds: float = 0.0
    logs: tuple[tuple[str, int, str], ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class ProcessJob:
    candidate: Candidate
    targname: str
    settings: Settings
    corrtag_extract: bool = False


@dataclass(frozen=True)
class ProcessResult:
    """A dataset extracted: its product, the files derived from it and its composite configuration."""

    rootname: str
    product: str = ""
    derived: tuple[FileInfo, ...] = ()
    extraction_file: str = ""
    """Name of the event file extraction read (composites re-read it from the filing folder)."""
    config: tuple[Any, ...] = ()
    bins: int = 0
    window: MemberWindow | None = None
    """What the dataset's composite needs to know of it (so it need not read it for that)."""
    error: str | None = None
    seconds: float = 0.0
    logs: tuple[tuple[str, int, str], ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class CompositeJob:
    key: str
    config: tuple[Any, ...]
    member_files: tuple[str, ...]
    settings: Settings
    windows: dict[str, MemberWindow] = field(default_factory=dict)
    """Member file → its window, for the members extracted in this run."""


@dataclass(frozen=True)
class CompositeResult:
    key: str
    path: str = ""
    members: int = 0
    error: str | None = None
    seconds: float = 0.0
    logs: tuple[tuple[str, int, str], ...] = field(default=(), repr=False)


# ------------------------------------------------------------------------------- worker log capture


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.records.append((record.name, record.levelno, record.getMessage()))
        except Exception:  # a bad format string must not kill the work
            self.records.append((record.name, record.levelno, str(record.msg)))


_collector: _Collector | None = None


def init_worker() -> None:
    """Process-pool initializer: collect this worker's ``hstlc`` log records for the main process."""
    # A little below the main process, which hands out work and is the only catalog writer: when the
    # cores are all busy it still gets the CPU at once, so workers never wait for it.
    with contextlib.suppress(AttributeError, OSError):
        os.nice(WORKER_NICENESS)
    init_cluster_worker()


def init_cluster_worker() -> None:
    """:func:`init_worker` for a Dask worker, which may be a standing cluster's that outlives this run and
    serves others: its priority is left as it is (the catalog writer runs on another machine anyway)."""
    global _collector
    _collector = _Collector()
    tune_allocator()
    root = logging.getLogger("hstlc")
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(_collector)
    root.setLevel(logging.DEBUG)
    root.propagate = False
    logging.captureWarnings(True)


def tune_allocator() -> bool:
    """Let this process reuse the memory of freed event columns instead of returning it to the system.

    Every dataset allocates and frees tens of MB of columns and temporaries. glibc serves blocks above
    its (adaptive, initially 128 KiB) threshold with fresh ``mmap`` pages and unmaps them on ``free``,
    so each dataset paid page faults and the kernel's zeroing of every page again: a fifth of an
    ingest's CPU time was system time, and the zeroing competes for memory bandwidth when several
    workers run. With :data:`ALLOCATOR_SETTINGS` blocks up to 32 MiB come from the heap and up to
    256 MiB of freed heap is kept for reuse. Process-wide; a no-op (False) where glibc's ``mallopt`` is
    not available.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in ALLOCATOR_SETTINGS)


def warm_up() -> None:
    """Import what the work needs (run once per worker while the main process is busy elsewhere)."""
    import astropy.table
    import astropy.time  # noqa: F401  (astropy imports both when the first product is written)

    import hstlc.extraction
    import hstlc.file_checks
    import hstlc.products
    import hstlc.readers
    import hstlc.stis_corrtag  # noqa: F401
    _drain()


def _drain() -> tuple[tuple[str, int, str], ...]:
    if _collector is None:
        return ()
    records, _collector.records = tuple(_collector.records), []
    return records


def _failure(exc: BaseException) -> str:
    if isinstance(exc, HstlcError):
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    log.debug("%s", "".join(traceback.format_exception(exc)))
    return f"internal error: {type(exc).__name__}: {exc}"


def _guard(work: Callable[[], T], fail: Callable[[str], T]) -> T:
    try:
        return work()
    except Exception as exc:  # each dataset is its own unit of work: record and go on
        return fail(_failure(exc))


# ------------------------------------------------------------------------------------------ survey


def discovery_exclusions(settings: Settings) -> list[Path]:
    """hstlc's own folders and the reference-file folders: never searched for datasets to ingest."""
    folders = list(settings.directories().values())
    return folders + [p for p in (settings.lref_dir, settings.oref_dir) if p is not None]


def recorded_shas(files: Any) -> dict[str, str]:
    """Name → sha256 of the files a dataset's catalog marker lists (``datasets.files``)."""
    return {str(f["name"]): str(f["sha256"]) for f in files or () if f.get("sha256")}


def already_ingested(status: str | None, recorded_files: Any, files: Iterable[FileInfo]) -> bool:
    """Whether a dataset whose marker has ``status`` and ``recorded_files`` was ingested (or quarantined)
    with exactly ``files``: a re-run leaves it where it is."""
    from hstlc.catalog.ingest_state import BAD, DONE

    if status not in (DONE, BAD):
        return False
    shas = recorded_shas(recorded_files)
    return all(shas.get(f.name) == f.sha256 for f in files)


def filed_targname(name: str, resolved: str | None) -> str:
    """The target name a dataset is filed under: its resolution, else its header name, else UNKNOWN."""
    return (resolved or name).strip() or "UNKNOWN"


def observation_values(observation: Observation) -> dict[str, Any]:
    """The ``metadata`` values of one event file (cenwave 0 for IMAGING, fppos 0 for STIS)."""
    values: dict[str, Any] = {name: getattr(observation, name) for name in METADATA_FIELDS}
    values["filename"] = Path(observation.filename).name
    values["rootname"] = observation.rootname.lower() if observation.rootname else None
    if str(observation.obstype).upper() == "IMAGING":
        values["cenwave"] = 0
    if str(observation.instrume).upper() == "STIS":
        values["fppos"] = 0
    for name in ("ra_targ", "dec_targ", "expstart", "expend", "exptime"):
        if values[name] is not None:
            values[name] = float(values[name])
    for name in ("cenwave", "fppos", "proposid"):
        if values[name] is not None:
            values[name] = int(values[name])
    return values


def survey(candidate: Candidate, settings: Settings) -> SurveyResult:
    """Hash every file of ``candidate``, run the quality checks and read its event files' headers."""
    started = time.perf_counter()
    _drain()  # records left by other work in this process (a standing cluster's) are not this job's
    from hstlc.file_checks import check_dataset
    from hstlc.products import file_sha256
    from hstlc.readers import read_observation

    def work() -> SurveyResult:
        files = tuple(FileInfo(str(p), p.name, file_sha256(p)) for p in candidate.files)
        outcome = check_dataset(candidate.primary, settings)
        reasons = tuple(outcome.result.reasons)
        metadata_files = [p for p in candidate.event_files if not (candidate.tag and p == candidate.corrtag)]
        checked = {Path(p).absolute(): obs
                   for (p, _), obs in zip(outcome.per_file, outcome.observations, strict=True)}
        observations = tuple(observation_values(checked.get(p.absolute()) or read_observation(p))
                             for p in metadata_files)
        return SurveyResult(candidate.rootname, files, reasons, observations,
                            seconds=time.perf_counter() - started, logs=_drain())

    return _guard(work, lambda why: SurveyResult(candidate.rootname, error=why,
                                                 seconds=time.perf_counter() - started, logs=_drain()))


def survey_job(job: tuple[Candidate, Settings]) -> SurveyResult:
    """:func:`survey` of one ``(candidate, settings)`` pair (what ingest hands to a worker)."""
    return survey(*job)


# --------------------------------------------------------------------------------------- extraction


def file_mode(settings: Settings) -> int:
    """Mode of files hstlc creates: the configured directory mode without execute bits."""
    return settings.file_mode & 0o666


def finish_file(path: Path, settings: Settings) -> None:
    """Give a file hstlc wrote the configured mode and group."""
    try:
        os.chmod(path, file_mode(settings))
    except OSError as exc:
        log.warning("%s: cannot set mode %o (%s)", path, file_mode(settings), exc.strerror or exc)
    apply_group(path, settings.file_group)


def target_folder(base: Path, targname: str) -> Path:
    """``base/<TARGNAME>`` with the name sanitised (never outside ``base``)."""
    return safe_join(base, safe_component(targname))


#: Folder (under ``filesystem_dir``) where workers write derived STIS corrtags before they are filed:
#: never the user's input directory, and on the filing folder's filesystem (filing it is a rename).
STAGING = ".hstlc-staging"


def staging_dir(settings: Settings) -> Path:
    return Path(settings.filesystem_dir) / STAGING


def _stis_corrtag(job: ProcessJob, derived: list[FileInfo]) -> Path:
    """The STIS corrtag to extract from: derived from the ``_tag`` unless one exists (or re-derived).

    A derived corrtag is written into :func:`staging_dir` (byte-identical for the same inputs, so a
    re-run after a kill writes the same file); the main process files it with the dataset's other files
    through the filing journal, and with ``--corrtag-extract`` it also plans the move of the corrtag it
    replaces into ``superseded/`` — a worker never moves a user's file.
    """
    from hstlc.products import file_sha256
    from hstlc.stis_corrtag import corrtag_path_for, write_stis_corrtag

    candidate, settings = job.candidate, job.settings
    tag, existing = candidate.tag, candidate.corrtag
    if tag is None:
        assert existing is not None
        if job.corrtag_extract:
            log.warning("%s: no _tag file to re-derive the corrtag from; using it as it is", existing.name)
        return existing
    if existing is not None and not job.corrtag_extract:
        return existing
    staged = staging_dir(settings) / corrtag_path_for(tag).name
    ensure_dir(staged.parent, group=settings.file_group, dir_mode=settings.file_mode)
    corrtag = Path(write_stis_corrtag(tag, staged, oref_dir=settings.oref_dir, overwrite=True))
    derived.append(FileInfo(str(corrtag), corrtag.name, file_sha256(corrtag), role="derived"))
    return corrtag


def process(job: ProcessJob) -> ProcessResult:
    """Extract ``job``'s dataset and write its individual product (``outputs_dir/<TARGNAME>/``)."""
    started = time.perf_counter()
    _drain()  # records left by other work in this process (a standing cluster's) are not this job's
    candidate, settings = job.candidate, job.settings

    def work() -> ProcessResult:
        from hstlc.extraction import ExtractionParams, extract_with_window, group_key
        from hstlc.products import individual_filename, write_lightcurve
        from hstlc.readers import read_dataset

        derived: list[FileInfo] = []
        x1d = None
        if candidate.tag is not None or (candidate.corrtag is not None and _is_stis(candidate.corrtag)):
            source = _stis_corrtag(job, derived)
            x1d = candidate.x1d
        else:
            source = candidate.event_files[0]
        params = ExtractionParams.from_settings(settings)
        dataset = read_dataset(source, lref_dir=settings.lref_dir, oref_dir=settings.oref_dir, x1d=x1d)
        lc, window = extract_with_window(dataset, params, lref_dir=settings.lref_dir, targname=job.targname)
        folder = target_folder(settings.outputs_dir, job.targname)
        ensure_dir(folder, group=settings.file_group, dir_mode=settings.file_mode)
        product = write_lightcurve(lc, folder / individual_filename(candidate.rootname), overwrite=True)
        finish_file(product, settings)
        config = tuple(group_key(dataset.observation, targname=job.targname))
        return ProcessResult(candidate.rootname, str(product), tuple(derived), source.name, config, len(lc),
                             window=window, seconds=time.perf_counter() - started, logs=_drain())

    return _guard(work, lambda why: ProcessResult(candidate.rootname, error=why,
                                                  seconds=time.perf_counter() - started, logs=_drain()))


def _is_stis(path: Path) -> bool:
    from hstlc.readers import detect_product
    from hstlc.readers.detect import ProductKind

    return detect_product(path) in (ProductKind.STIS_CORRTAG, ProductKind.STIS_TAG)


def build_composite(job: CompositeJob) -> CompositeResult:
    """Make and write the composite of one configuration into ``composite_dir``."""
    started = time.perf_counter()
    _drain()  # records left by other work in this process (a standing cluster's) are not this job's
    settings = job.settings

    def work() -> CompositeResult:
        from hstlc.extraction import ExtractionParams, make_composite
        from hstlc.products import composite_filename, write_lightcurve

        params = ExtractionParams.from_settings(settings)
        instrume, detector, targname, opt_elem, cenwave, aperture = job.config
        lc = make_composite(list(job.member_files), params, lref_dir=settings.lref_dir,
                            oref_dir=settings.oref_dir, targname=targname, windows=job.windows)
        folder = Path(settings.composite_dir)
        ensure_dir(folder, group=settings.file_group, dir_mode=settings.file_mode)
        name = composite_filename(instrume, detector, targname, opt_elem, cenwave, aperture)
        path = write_lightcurve(lc, safe_join(folder, name), overwrite=True)
        finish_file(path, settings)
        return CompositeResult(job.key, str(path), len(job.member_files),
                               seconds=time.perf_counter() - started, logs=_drain())

    return _guard(work, lambda why: CompositeResult(job.key, error=why,
                                                    seconds=time.perf_counter() - started, logs=_drain()))


__all__ = [
    "METADATA_FIELDS",
    "CompositeJob",
    "CompositeResult",
    "FileInfo",
    "ProcessJob",
    "ProcessResult",
    "SurveyResult",
    "build_composite",
    "file_mode",
    "finish_file",
    "init_cluster_worker",
    "init_worker",
    "observation_values",
    "process",
    "survey",
    "survey_job",
    "target_folder",
    "tune_allocator",
    "warm_up",
]
