"""A small catalog with known contents for the listing, show and export tests (written through the
library's own upserts; no product file exists unless a test writes one).

Targets (resolved name ← TARGNAME as observed):

========================  =============================================  ===================================
target                    data                                           stats → verdict
========================  =============================================  ===================================
AZV148 ← AZV-148          COS FUV G130M 1291 PSA: lb1a01aaq (FUV pair,   composite variable; individuals
                          1000 s, MJD 55000, prop 11111), lb1a02aaq      constant (the composite decides)
                          (pair, 2000 s, MJD 55010, prop 11112)
HD93521 ← HD 93521        COS NUV G185M 1786 PSA: lb1b01aaq (500 s,      NUV composite constant; STIS
                          MJD 56000, 22222); STIS FUV-MAMA E140M 1425    composite periodic (300 s, FAP
                          0.2X0.2: o1b002010 (800 s, MJD 57000, 33333)   1e-9) → periodic
WD0308-565                COS FUV G130M 1291 PSA: lb1c01aaq (FUVA only,  individual periodic (90 s); the
                          300 s, MJD 58000, 11111)                       composite has none → from individual
NOSTATS                   COS FUV G160M 1577 PSA: lb1d01aaq (100 s,      none
                          MJD 59000, 44444)
O'BRIEN%_STAR             COS NUV G230L 2950 PSA: lb1e01aaq (10 s)       composite stale (method 1) constant
OXBRIENAXSTAR             COS NUV G230L 2950 PSA: lb1f01aaq (20 s)       composite undetermined
BACK\\SLASH               COS NUV G230L 2950 PSA: lb1g01aaq (30 s)       composite no counts
BACKSLASH                 COS NUV G230L 2950 PSA: lb1h01aaq (40 s)       —
BANG!STAR, BANGSTAR       COS NUV G230L 2950 PSA: lb1i01aaq, lb1j01aaq   —
ÉTOILE-Ω ← étoile Ω       STIS NUV-MAMA G230L 2376 52X0.2: o1k001010     —
========================  =============================================  ===================================

Rejected: ``lb1z01aaq_corrtag_a.fits`` and ``_b`` (Bad EXPFLAG; Short Exposure).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hstlc.catalog import Catalog, upsert_bad_data, upsert_metadata, upsert_outputs, upsert_stats
from hstlc.catalog.schema import IngestDataset
from hstlc.products import composite_filename, individual_filename
from hstlc.science.variability import STATS_VERSION

SETTINGS = "fap<0.001 p<0.001"
ROOT = "/nonexistent/hstlc"
HOSTILE = ("O'BRIEN%_STAR", "OXBRIENAXSTAR", "BACK\\SLASH", "BACKSLASH", "BANG!STAR", "BANGSTAR", "ÉTOILE-Ω")


@dataclass(frozen=True)
class Dataset:
    rootname: str
    target: str
    original: str
    config: tuple[str, str, str, int, str]
    exptime: float
    expstart: float
    proposal: int
    segments: tuple[str, ...] = ("",)

    @property
    def individual(self) -> str:
        return individual_filename(self.rootname)

    @property
    def composite(self) -> str:
        instrume, detector, grating, cenwave, aperture = self.config
        return composite_filename(instrume, detector, self.target, grating, cenwave, aperture)


FUV130 = ("COS", "FUV", "G130M", 1291, "PSA")
NUV230 = ("COS", "NUV", "G230L", 2950, "PSA")
DATASETS: tuple[Dataset, ...] = (
    Dataset("lb1a01aaq", "AZV148", "AZV-148", FUV130, 1000.0, 55000.0, 11111, ("FUVA", "FUVB")),
    Dataset("lb1a02aaq", "AZV148", "AZV-148", FUV130, 2000.0, 55010.0, 11112, ("FUVA", "FUVB")),
    Dataset("lb1b01aaq", "HD93521", "HD 93521", ("COS", "NUV", "G185M", 1786, "PSA"), 500.0, 56000.0, 22222),
    Dataset(
        "o1b002010",
        "HD93521",
        "HD 93521",
        ("STIS", "FUV-MAMA", "E140M", 1425, "0.2X0.2"),
        800.0,
        57000.0,
        33333,
    ),
    Dataset("lb1c01aaq", "WD0308-565", "WD0308-565", FUV130, 300.0, 58000.0, 11111, ("FUVA",)),
    Dataset("lb1d01aaq", "NOSTATS", "NOSTATS", ("COS", "FUV", "G160M", 1577, "PSA"), 100.0, 59000.0, 44444),
    Dataset("lb1e01aaq", "O'BRIEN%_STAR", "O'BRIEN%_STAR", NUV230, 10.0, 59100.0, 55555),
    Dataset("lb1f01aaq", "OXBRIENAXSTAR", "OXBRIENAXSTAR", NUV230, 20.0, 59101.0, 55555),
    Dataset("lb1g01aaq", "BACK\\SLASH", "BACK\\SLASH", NUV230, 30.0, 59102.0, 55555),
    Dataset("lb1h01aaq", "BACKSLASH", "BACKSLASH", NUV230, 40.0, 59103.0, 55555),
    Dataset("lb1i01aaq", "BANG!STAR", "BANG!STAR", NUV230, 50.0, 59104.0, 55555),
    Dataset("lb1j01aaq", "BANGSTAR", "BANGSTAR", NUV230, 60.0, 59105.0, 55555),
    Dataset(
        "o1k001010",
        "ÉTOILE-Ω",
        "étoile Ω",
        ("STIS", "NUV-MAMA", "G230L", 2376, "52X0.2"),
        70.0,
        59106.0,
        66666,
    ),
)
REJECTED = ("lb1z01aaq_corrtag_a.fits", "lb1z01aaq_corrtag_b.fits")


def dataset(rootname: str) -> Dataset:
    return next(d for d in DATASETS if d.rootname == rootname)


def details(verdict: str, period: float | None, fap: float | None) -> dict[str, Any]:
    return {
        "version": STATS_VERSION,
        "verdict": verdict,
        "bands": {
            "short": {"name": "short", "best_period": period, "fap": fap, "skipped": None},
            "med": {
                "name": "med",
                "best_period": None,
                "fap": None,
                "skipped": "no period in 600–3600 s is searchable",
            },
        },
    }


#: (file name, total, periodogram, variable, best period, FAP, χ²_red, method version)
STATS: tuple[tuple[str, float, bool, bool | None, float | None, float | None, float | None, int], ...] = (
    (dataset("lb1a01aaq").composite, 5000.0, False, True, 1200.0, 0.2, 9.5, STATS_VERSION),
    (dataset("lb1a01aaq").individual, 2000.0, False, False, 60.0, 0.5, 1.1, STATS_VERSION),
    (dataset("lb1a02aaq").individual, 3000.0, False, False, 70.0, 0.6, 1.0, STATS_VERSION),
    (dataset("lb1b01aaq").composite, 800.0, False, False, 45.0, 0.9, 0.9, STATS_VERSION),
    (dataset("o1b002010").composite, 900.0, True, True, 300.0, 1e-9, 20.0, STATS_VERSION),
    (dataset("lb1c01aaq").individual, 400.0, True, False, 90.0, 1e-6, 1.2, STATS_VERSION),
    (dataset("lb1e01aaq").composite, 10.0, False, False, 20.0, 0.4, 1.0, 1),
    (dataset("lb1f01aaq").composite, 5.0, False, None, None, None, None, STATS_VERSION),
    (dataset("lb1g01aaq").composite, 0.0, False, None, None, None, None, STATS_VERSION),
)
VERDICT_OF_STATS = {
    STATS[0][0]: "variable",
    STATS[1][0]: "constant",
    STATS[2][0]: "constant",
    STATS[3][0]: "constant",
    STATS[4][0]: "periodic",
    STATS[5][0]: "periodic",
    STATS[6][0]: "constant",
    STATS[7][0]: "undetermined",
    STATS[8][0]: "no counts",
}


@dataclass
class Stocked:
    """What :func:`stock` wrote."""

    datasets: tuple[Dataset, ...] = DATASETS
    targets: tuple[str, ...] = field(default_factory=lambda: tuple(sorted({d.target for d in DATASETS})))


def stock(catalog: Catalog) -> Stocked:
    """Fill ``catalog`` (initialised, empty) with the table above."""
    when = datetime(2025, 3, 1, 12, 0, 0)
    with catalog.session() as session:
        for d in DATASETS:
            instrume, detector, grating, cenwave, aperture = d.config
            names = (
                [f"{d.rootname}_corrtag_{s[-1].lower()}.fits" for s in d.segments]
                if d.segments != ("",)
                else [f"{d.rootname}_corrtag.fits" if instrume == "COS" else f"{d.rootname}_tag.fits"]
            )
            for filename, segment in zip(names, d.segments, strict=True):
                row = upsert_metadata(
                    session,
                    filename,
                    path=f"{ROOT}/filesystem/{d.target}",
                    telescop="HST",
                    instrume=instrume,
                    detector=detector,
                    opt_elem=grating,
                    cenwave=cenwave,
                    aperture=aperture,
                    targname=d.target,
                    targname_orig=d.original,
                    rootname=d.rootname,
                    segment=segment or None,
                    proposid=d.proposal,
                    expstart=d.expstart,
                    expend=d.expstart + d.exptime / 86400.0,
                    exptime=d.exptime,
                    ra_targ=10.5,
                    dec_targ=-20.25,
                    ingest_date=when,
                )
                upsert_outputs(
                    session,
                    row.id,
                    individual_path=f"{ROOT}/outputs/{d.target}",
                    individual_filename=d.individual,
                    composite_path=f"{ROOT}/composites",
                    composite_filename=d.composite,
                )
            if d.rootname == "lb1a01aaq":  # the ingest record of its files (the others have none)
                session.add(
                    IngestDataset(
                        rootname=d.rootname,
                        status="done",
                        files=[
                            {
                                "name": n,
                                "sha256": "0" * 64,
                                "role": "input",
                                "location": f"{ROOT}/filesystem/{d.target}",
                            }
                            for n in names
                        ],
                    )
                )
        for name, total, periodogram, variable, period, fap, chi2, version in STATS:
            composite = name.startswith("hlsp_")
            upsert_stats(
                session,
                name,
                lightcurve_path=f"{ROOT}/composites" if composite else f"{ROOT}/outputs/x",
                product_type="composite" if composite else "individual",
                total=total,
                periodogram=periodogram,
                variable=variable,
                best_period=period,
                fap=fap,
                chi2_reduced=chi2,
                chi2_p=None if chi2 is None else 1e-5,
                method_version=version,
                method_settings=SETTINGS if version == STATS_VERSION else None,
                details=details(VERDICT_OF_STATS[name], period, fap),
                computed_at=when,
            )
        upsert_bad_data(session, REJECTED[0], ["Bad EXPFLAG", "Short Exposure"], path=f"{ROOT}/bad_data")
        upsert_bad_data(session, REJECTED[1], ["Bad EXPFLAG"], path=f"{ROOT}/bad_data")
    return Stocked()
