"""Generated catalog rows (no files) for the listing tests and ``benchmarks/bench_catalog.py``.

:func:`generate` makes a realistic archive's worth of rows: targets with a skewed number of visits
(a few targets observed hundreds of times, most a few times), COS FUV pairs (two ``metadata`` rows per
dataset, one per segment), COS NUV and STIS exposures, their gratings, central wavelengths, apertures
and proposals; an ``outputs`` row per ``metadata`` row (an individual product per dataset, a composite per
configuration), ``datasets`` done-markers with their files, ``bad_data`` rows, and ``stats`` for every
composite and for individual products until ``stats_products`` is reached, with a spread of verdicts
and ``details`` of a realistic size. :func:`fill` bulk-inserts them (a few multi-row INSERTs per table).

Seeded, so a run is reproducible; nothing here reads or writes a file.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from hstlc.catalog import Catalog
from hstlc.catalog.schema import BadData, IngestDataset, Metadata, Outputs, Stats
from hstlc.products import composite_filename, individual_filename
from hstlc.science.variability import STATS_VERSION
from hstlc.targets import name_key

#: (instrument, detector, [(grating, [cenwaves])], [apertures], rows per dataset, rootname letter)
CONFIGURATIONS: tuple[
    tuple[str, str, tuple[tuple[str, tuple[int, ...]], ...], tuple[str, ...], int, str], ...
] = (
    (
        "COS",
        "FUV",
        (("G130M", (1291, 1309, 1222, 1096)), ("G160M", (1577, 1600, 1623)), ("G140L", (1105, 1280))),
        ("PSA", "BOA"),
        2,
        "l",
    ),
    (
        "COS",
        "NUV",
        (("G185M", (1786, 1817)), ("G225M", (2186, 2250)), ("G230L", (2635, 2950)), ("G285M", (2850,))),
        ("PSA",),
        1,
        "l",
    ),
    (
        "STIS",
        "FUV-MAMA",
        (("G140L", (1425,)), ("G140M", (1218, 1321)), ("E140M", (1425,)), ("E140H", (1416, 1598))),
        ("52X0.2", "0.2X0.2", "52X2"),
        1,
        "o",
    ),
    (
        "STIS",
        "NUV-MAMA",
        (("G230L", (2376,)), ("E230M", (1978, 2707)), ("G230M", (2419,))),
        ("52X0.2", "0.2X0.09"),
        1,
        "o",
    ),
)
#: How often each configuration family is observed (COS FUV dominates the archive's TIME-TAG data).
CONFIGURATION_WEIGHTS = (0.55, 0.15, 0.2, 0.1)

#: Verdict spread of generated stats: (periodogram, variable, has counts) → weight.
VERDICT_FLAGS: tuple[tuple[bool, bool | None, bool, float], ...] = (
    (True, True, True, 0.05),  # periodic
    (False, True, True, 0.15),  # variable
    (False, False, True, 0.62),  # constant
    (False, None, True, 0.10),  # undetermined
    (False, None, False, 0.08),  # no counts
)

SETTINGS_KEY = "fap<0.001 p<0.001"
ALIASES = ("HD {n}", "hd{n}", "HD-{n}")


def _target_names(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct resolved target names in the catalogs' usual forms."""
    names: set[str] = set()
    makers = (
        lambda: f"HD{rng.randint(1000, 240000)}",
        lambda: f"WD{rng.randint(0, 2359):04d}-{rng.randint(0, 899):03d}",
        lambda: f"AZV{rng.randint(1, 500)}",
        lambda: f"SK-{rng.randint(60, 72)}D{rng.randint(1, 300)}",
        lambda: (
            f"2MASSJ{rng.randint(0, 23):02d}{rng.randint(0, 59):02d}{rng.randint(0, 5999):04d}"
            f"+{rng.randint(0, 89):02d}{rng.randint(0, 59):02d}{rng.randint(0, 599):03d}"
        ),
        lambda: (
            f"SDSSJ{rng.randint(0, 235959):06d}.{rng.randint(0, 99):02d}"
            f"+{rng.randint(0, 895959):06d}.{rng.randint(0, 9)}"
        ),
        lambda: f"NGC{rng.randint(1, 7840)}",
        lambda: (
            f"V-{rng.choice(('AM-CVN', 'SS-CYG', 'U-GEM', 'VW-HYI', 'OY-CAR', 'Z-CHA'))}-{rng.randint(1, 99)}"
        ),
        lambda: f"GJ{rng.randint(1, 1300)}",
    )
    while len(names) < count:
        names.add(rng.choice(makers)())
    return sorted(names)


def _original_name(rng: random.Random, name: str) -> str:
    """The TARGNAME an observer may have typed for ``name`` (the resolver made ``name`` of it)."""
    if name.startswith("HD") and rng.random() < 0.3:
        return rng.choice(ALIASES).format(n=name[2:])
    if name.startswith("AZV") and rng.random() < 0.5:
        return f"AZV-{name[3:]}"
    return name


def _details(
    rng: random.Random, verdict: str, best_period: float | None, fap: float | None
) -> dict[str, Any]:
    """A ``stats.details`` of the shape and about the size ``hstlc stats`` writes (~4 kB)."""

    def peaks(n: int) -> list[dict[str, Any]]:
        return [
            {
                "period": rng.uniform(10, 3000),
                "power": rng.random(),
                "fap": rng.random(),
                "band": "short",
                "window": False,
                "edge": False,
                "residual_power": rng.random(),
            }
            for _ in range(n)
        ]

    bands = {}
    for name, low, high in (("short", 5.0, 600.0), ("med", 600.0, 3600.0), ("long", 3600.0, 36000.0)):
        searched = name != "long" or rng.random() < 0.3
        bands[name] = {
            "name": name,
            "period_min": low,
            "period_max": high,
            "searched_min": low if searched else None,
            "searched_max": high if searched else None,
            "n_frequencies": rng.randint(200, 5000) if searched else 0,
            "method": "nifty-ls" if searched else "",
            "best_period": (best_period if name == "short" and best_period else rng.uniform(low, high))
            if searched
            else None,
            "fap": (fap if name == "short" else rng.random()) if searched else None,
            "peaks": peaks(5) if searched else [],
            "skipped": None if searched else f"no period in {low:g}–{high:g} s is searchable",
        }
    return {
        "version": STATS_VERSION,
        "verdict": verdict,
        "n_bins": rng.randint(50, 5000),
        "flag_rule": "fap",
        "fap_threshold": 1e-3,
        "variable_p": 1e-3,
        "bands": bands,
        "search": {"best": {"period": best_period, "fap": fap}, "peaks": peaks(6)},
    }


@dataclass
class CatalogRows:
    """Rows for each table (``outputs`` rows refer to their ``metadata`` row by file name)."""

    metadata: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    """Each with ``filename`` (the metadata row's) in place of ``metadata_id``."""
    stats: list[dict[str, Any]] = field(default_factory=list)
    bad_data: list[dict[str, Any]] = field(default_factory=list)
    datasets: list[dict[str, Any]] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)

    @property
    def products(self) -> int:
        names = {o["individual_filename"] for o in self.outputs} | {
            o["composite_filename"] for o in self.outputs
        }
        return len(names)


def generate(
    *,
    metadata_rows: int = 100_000,
    stats_products: int = 20_000,
    seed: int = 0,
    root: str = "/data/hstlc",
    bad_fraction: float = 0.02,
    target_count: int | None = None,
) -> CatalogRows:
    """About ``metadata_rows`` metadata rows (exactly, give or take one FUV segment) and their products,
    ``stats_products`` of which have stats (every composite first)."""
    rng = random.Random(seed)
    targets = _target_names(rng, target_count or max(3, metadata_rows // 30))
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(targets))]  # a few targets observed very often
    rng.shuffle(weights)
    proposals = [rng.randint(7000, 17999) for _ in range(max(2, len(targets) // 4))]
    target_proposals = {t: rng.sample(proposals, k=min(len(proposals), rng.randint(1, 3))) for t in targets}
    position = {t: (rng.uniform(0.0, 360.0), rng.uniform(-89.0, 89.0)) for t in targets}
    target_configs: dict[str, list[tuple[int, str, int, str]]] = {}
    rows = CatalogRows(targets=targets)
    composites: dict[str, dict[str, Any]] = {}
    ingest_date = datetime(2025, 1, 1)
    serial = 0
    while len(rows.metadata) < metadata_rows:
        target = rng.choices(targets, weights)[0]
        choices = target_configs.setdefault(target, [])
        if not choices or (len(choices) < 4 and rng.random() < 0.15):
            family = rng.choices(range(len(CONFIGURATIONS)), CONFIGURATION_WEIGHTS)[0]
            grating, cenwaves = rng.choice(CONFIGURATIONS[family][2])
            choices.append((family, grating, rng.choice(cenwaves), rng.choice(CONFIGURATIONS[family][3])))
        family, grating, cenwave, aperture = rng.choice(choices)
        instrume, detector, _gratings, _apertures, segments, letter = CONFIGURATIONS[family]
        proposid = rng.choice(target_proposals[target])
        serial += 1
        rootname = f"{letter}{serial:07x}q" if letter == "l" else f"{letter}{serial:07x}0"
        expstart = rng.uniform(55000.0, 60600.0)
        exptime = round(rng.uniform(100.0, 3000.0), 1)
        folder = f"{root}/filesystem/{target}"
        if rng.random() < bad_fraction:
            for segment in ("a", "b")[:segments]:
                rows.bad_data.append(
                    {
                        "filename": f"{rootname}_corrtag_{segment}.fits",
                        "ingest_date": ingest_date,
                        "reason": rng.choice(("Bad EXPFLAG", "Short Exposure", "No events")),
                        "path": f"{root}/bad_data",
                        "sha256": f"{serial:064x}",
                    }
                )
            continue
        original = _original_name(rng, target)
        individual = individual_filename(rootname)
        composite = composite_filename(instrume, detector, target, grating, cenwave, aperture)
        composites.setdefault(composite, {"target": target})
        files = []
        names = (
            [f"{rootname}_corrtag_{s}.fits" for s in ("a", "b")[:segments]]
            if letter == "l"
            else [f"{rootname}_tag.fits"]
        )
        for index, filename in enumerate(names):
            rows.metadata.append(
                {
                    "filename": filename,
                    "path": folder,
                    "ingest_date": ingest_date,
                    "telescop": "HST",
                    "instrume": instrume,
                    "targname": target,
                    "cal_ver": "3.4.4",
                    "obstype": "SPECTROSCOPIC",
                    "cenwave": cenwave,
                    "aperture": aperture,
                    "detector": detector,
                    "opt_elem": grating,
                    "fppos": 3,
                    "rootname": rootname,
                    "segment": ("FUVA", "FUVB")[index]
                    if segments == 2
                    else ("N/A" if letter == "l" else None),
                    "targname_orig": original,
                    "targname_key": name_key(target),
                    "proposid": proposid,
                    "expstart": expstart,
                    "expend": expstart + exptime / 86400.0 * 1.1,
                    "exptime": exptime,
                    "ra_targ": position[target][0],
                    "dec_targ": position[target][1],
                    "sha256": f"{serial:062x}{index:02x}",
                }
            )
            rows.outputs.append(
                {
                    "filename": filename,
                    "individual_path": f"{root}/outputs/{target}",
                    "individual_filename": individual,
                    "composite_path": f"{root}/composites",
                    "composite_filename": composite,
                }
            )
            files.append(
                {"name": filename, "sha256": f"{serial:062x}{index:02x}", "role": "input", "location": folder}
            )
        rows.datasets.append(
            {
                "rootname": rootname,
                "status": "done",
                "fingerprint": f"{serial:064x}",
                "files": files,
                "primary_path": f"{folder}/{names[0]}",
                "targname": target,
                "updated_at": ingest_date,
            }
        )
    individuals = sorted({(o["individual_filename"], o["individual_path"]) for o in rows.outputs})
    products = [(name, f"{root}/composites", "composite") for name in sorted(composites)]
    products += [(name, path, "individual") for name, path in individuals]
    for filename, path, kind in products[:stats_products]:
        periodogram, variable, has_counts, _w = rng.choices(VERDICT_FLAGS, [f[3] for f in VERDICT_FLAGS])[0]
        verdict = (
            "no counts"
            if not has_counts
            else "periodic"
            if periodogram
            else "undetermined"
            if variable is None
            else "variable"
            if variable
            else "constant"
        )
        best_period = rng.uniform(10.0, 5000.0) if has_counts else None
        fap = (10 ** rng.uniform(-30, -4) if periodogram else rng.random()) if has_counts else None
        stale = rng.random() < 0.03
        rows.stats.append(
            {
                "lightcurve_path": path,
                "lightcurve_filename": filename,
                "total": rng.uniform(100.0, 1e6) if has_counts else 0.0,
                "mean": rng.uniform(1.0, 500.0) if has_counts else None,
                "mu": rng.uniform(1.0, 20.0) if has_counts else None,
                "stdev": rng.uniform(1.0, 50.0) if has_counts else None,
                "poisson_factor": rng.uniform(0.8, 5.0) if has_counts else None,
                "pearson_r": rng.uniform(-0.3, 0.3) if has_counts else None,
                "pearson_p": rng.random() if has_counts else None,
                "periodogram": periodogram,
                "deliver": has_counts,
                "variable": variable,
                "best_period": best_period,
                "fap": fap,
                "chi2_reduced": rng.uniform(0.5, 30.0) if variable is not None else None,
                "chi2_p": (10 ** rng.uniform(-20, -3.5) if variable else rng.random())
                if variable is not None
                else None,
                "method_version": 1 if stale else STATS_VERSION,
                "method_settings": None if stale else SETTINGS_KEY,
                "product_type": kind,
                "product_sha256": f"{len(rows.stats):064x}",
                "computed_at": ingest_date,
                "details": _details(rng, verdict, best_period, fap),
            }
        )
    return rows


def _chunks(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def fill(catalog: Catalog, rows: CatalogRows, *, chunk: int = 5000) -> None:
    """Insert ``rows`` into the (initialised, empty) ``catalog`` with multi-row INSERTs."""
    with catalog.session() as session:
        for part in _chunks(rows.metadata, chunk):
            session.execute(insert(Metadata.__table__), part)
        ids = dict(session.execute(select(Metadata.filename, Metadata.id)).all())
        outputs = [
            {**{k: v for k, v in o.items() if k != "filename"}, "metadata_id": ids[o["filename"]]}
            for o in rows.outputs
        ]
        tables: Iterable[tuple[Any, list[dict[str, Any]]]] = (
            (Outputs.__table__, outputs),
            (Stats.__table__, rows.stats),
            (BadData.__table__, rows.bad_data),
            (IngestDataset.__table__, rows.datasets),
        )
        for table, items in tables:
            for part in _chunks(items, chunk):
                session.execute(insert(table), part)
