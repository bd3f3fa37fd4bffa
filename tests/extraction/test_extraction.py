"""The extraction engine on real-format synthetic COS files (hstlc.synthetic), against the injected truth
and against independent selections computed here from the FITS columns with astropy."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from hstlc.domain import Dataset, EventList, Segment
from hstlc.errors import ExtractionError
from hstlc.extraction import ExtractionParams, extract_dataset, extract_file, group_key, load_datasets
from hstlc.readers import read_dataset
from hstlc.science.selection import AIRGLOW_WINDOWS
from hstlc.synthetic import ExtractionGeometry, make_cos_fuv, sinusoid

SERIOUS = 64 | 512 | 2048


def _events(path: Path) -> tuple[fits.Header, dict[str, np.ndarray], np.ndarray]:
    with fits.open(path) as hdul:
        header = hdul["EVENTS"].header.copy()
        data = {
            c: np.array(hdul["EVENTS"].data[c])
            for c in ("TIME", "XCORR", "YCORR", "WAVELENGTH", "EPSILON", "DQ")
        }
        gtis = [h for h in hdul if h.name == "GTI"]
        gti_hdu = max(gtis, key=lambda h: h.header.get("EXTVER", 1))
        gti = np.column_stack([gti_hdu.data["START"], gti_hdu.data["STOP"]])
    return header, data, gti


def _selected_epsilon(
    path: Path, *, airglow: bool = True, wmin: float = 915.0, wmax: float = 1800.0
) -> float:
    """Σ ε of the events an extraction must keep, computed independently of hstlc's science code."""
    header, d, gti = _events(path)
    letter = header.get("SEGMENT", "FUVA")[-1] if "SEGMENT" in header else path.stem[-1].upper()
    loc, hgt = header[f"SP_LOC_{letter}"], header[f"SP_HGT_{letter}"]
    t = d["TIME"].astype(np.float64)
    ingti = np.zeros(len(t), bool)
    for start, stop in gti:
        ingti |= (t >= start) & (t < stop)
    lam = d["WAVELENGTH"]
    keep = (
        ingti
        & (d["YCORR"] >= loc - hgt / 2)
        & (d["YCORR"] < loc + hgt / 2)
        & ((d["DQ"] & (header["SDQFLAGS"] | SERIOUS)) == 0)
        & (lam > wmin)
        & (lam < wmax)
        & (d["XCORR"] >= 0)
        & (d["XCORR"] < 16384)
    )
    if airglow:
        for lo, hi in AIRGLOW_WINDOWS:
            keep &= ~((lam >= lo) & (lam <= hi))
    return float(np.sum(d["EPSILON"][keep].astype(np.float64)))


def _seg_truth(ds, name: str) -> dict:
    entry = ds.truth["segments"][name]
    return entry.get(name, entry)


@pytest.fixture(scope="module")
def fuv(tmp_path_factory: pytest.TempPathFactory):
    """A calibrated FUV pair with a GTI gap, airglow, DQ-flagged events and a TIMELINE."""
    d = tmp_path_factory.mktemp("fuv")
    ds = make_cos_fuv(
        d,
        reference_dir=d / "ref",
        gti=[[0, 400], [465, 1003]],
        exptime=1003.0,
        airglow=True,
        dq_fraction=0.1,
        source_rate=200.0,
        background_rate=0.5,
        seed=11,
    )
    return ds, d / "ref"


def test_counts_conservation(fuv) -> None:
    ds, ref = fuv
    lc = extract_file(ds.event_files[0], ExtractionParams(step=5.0), lref_dir=ref)
    expected = sum(_selected_epsilon(p) for p in ds.event_files)
    assert lc.gross.sum() == pytest.approx(expected, rel=1e-10)


def test_gti_exposure_no_gap_bins_tail_and_partial_last_bin(fuv) -> None:
    ds, ref = fuv
    lc = extract_file(ds.event_files[0], ExtractionParams(step=10.0), lref_dir=ref)
    # Σ BINS = Σ GTI (938 s) — EXPTIME in the header is also 938 s, yet the bins run to 1003 s (defect 2).
    assert lc.bins.sum() == pytest.approx(938.0)
    assert not np.any((lc.times >= 400) & (lc.times + 10 <= 465))  # defect 1: no zero-exposure bins
    assert lc.bins[lc.times == 460.0][0] == pytest.approx(5.0)  # the bin straddling the GTI start
    assert lc.times[-1] == 1000.0 and lc.bins[-1] == pytest.approx(3.0)  # partial last bin, true exposure
    np.testing.assert_allclose(lc.net, lc.counts / lc.bins)
    assert np.all(lc.bins > 0)


def test_mjd_is_expstart_plus_seconds_over_86400(fuv) -> None:
    # Defect 6: the original multiplied by 1.15741e-5 (+2.8 ppm drift).
    ds, ref = fuv
    lc = extract_file(ds.event_files[0], ExtractionParams(step=10.0), lref_dir=ref)
    np.testing.assert_array_equal(lc.mjd, ds.truth["expstart"] + lc.times / 86400.0)
    assert lc.meta["TIMEPIXR"] == 0.0


def test_airglow_exclusion_and_keep(fuv) -> None:
    ds, ref = fuv
    cut = extract_file(ds.event_files[0], ExtractionParams(step=50.0), lref_dir=ref)
    kept = extract_file(ds.event_files[0], ExtractionParams(step=50.0, keep_airglow=True), lref_dir=ref)
    expected_kept = sum(_selected_epsilon(p, airglow=False) for p in ds.event_files)
    assert kept.gross.sum() == pytest.approx(expected_kept, rel=1e-10)
    assert kept.gross.sum() - cut.gross.sum() > 1000  # the Lyα/O I windows hold many events here
    assert cut.meta["AIRGLOW"] is True and kept.meta["AIRGLOW"] is False
    # Columns counted exclude the airglow windows (defect 5a).
    assert kept.meta["NPIXEL"] > cut.meta["NPIXEL"]


def test_dq_flagged_events_dropped(tmp_path: Path) -> None:
    clean = make_cos_fuv(tmp_path / "a", segments=("FUVA",), dq_fraction=0.0, seed=3)
    dirty = make_cos_fuv(tmp_path / "b", segments=("FUVA",), dq_fraction=0.3, seed=3)
    a = extract_file(clean.event_files[0], ExtractionParams(step=100.0))
    b = extract_file(dirty.event_files[0], ExtractionParams(step=100.0))
    assert b.gross.sum() == pytest.approx(_selected_epsilon(dirty.event_files[0]), rel=1e-10)
    assert b.gross.sum() < 0.8 * a.gross.sum()


def test_flux_matches_injected_flat_spectrum(tmp_path: Path) -> None:
    # Per-event 1/(TDS·SENS) (defect 3) over the columns actually extracted (defect 5) recovers f_λ.
    ds = make_cos_fuv(
        tmp_path, reference_dir=tmp_path / "ref", source_rate=400.0, background_rate=0.2, airglow=True, seed=5
    )
    lc = extract_file(ds.event_files[0], ExtractionParams(step=20.0), lref_dir=tmp_path / "ref")
    truth = _seg_truth(ds, "FUVA")["flux"]
    mean = np.average(lc.flux, weights=lc.bins)
    assert mean == pytest.approx(truth, rel=0.01)
    assert lc.meta["FLUXCAL"] == "CALIBRATED" and lc.meta["TDSCORR"] == "COMPLETE"
    # FLUX_ERROR is the scatter the bins really show.
    assert np.std(lc.flux) == pytest.approx(np.median(lc.flux_error), rel=0.25)


def test_tds_correction_applied_at_midpoint(tmp_path: Path) -> None:
    from hstlc.readers.reftables import read_tdstab

    ds = make_cos_fuv(
        tmp_path,
        segments=("FUVA",),
        reference_dir=tmp_path / "ref",
        source_rate=300.0,
        expstart=57000.0,
        seed=8,
    )
    with_tds = extract_file(ds.event_files[0], ExtractionParams(step=100.0), lref_dir=tmp_path / "ref")
    # The same events without the TDSTAB.
    nots = tmp_path / "nots"
    nots.mkdir()
    (nots / ds.event_files[0].name).write_bytes(ds.event_files[0].read_bytes())
    with fits.open(nots / ds.event_files[0].name, mode="update") as hdul:
        hdul[0].header["TDSTAB"] = "N/A"
    without = extract_file(
        nots / ds.event_files[0].name, ExtractionParams(step=100.0), lref_dir=tmp_path / "ref"
    )
    assert without.meta["TDSCORR"] == "OMITTED" and "TDS" in without.meta["FLUXNOTE"]
    table = read_tdstab(ds.reference_files["tdstab"])
    row = table.match(opt_elem="G130M", aperture="PSA", segment="FUVA", cenwave=1291)[0]
    mid = 0.5 * (ds.truth["expstart"] + ds.truth["expend"])
    i = int(np.clip(np.searchsorted(row.time, mid, side="right") - 1, 0, len(row.time) - 1))
    factor = (mid - table.ref_time) / 365.25 * row.slope[i] / 100 + row.intercept[i]
    _h, d, _g = _events(ds.event_files[0])
    lam = d["WAVELENGTH"][(d["WAVELENGTH"] > 1300) & (d["WAVELENGTH"] < 1420)]
    expected_ratio = np.mean(1.0 / np.interp(lam, row.wavelength, factor))
    ratio = with_tds.flux.sum() / without.flux.sum()
    assert ratio == pytest.approx(expected_ratio, rel=0.01)
    assert abs(ratio - 1.0) > 0.005  # the correction is not negligible at this epoch


def test_missing_fluxtab_is_unity_with_warning_and_keyword(fuv, caplog: pytest.LogCaptureFixture) -> None:
    ds, _ref = fuv
    with caplog.at_level(logging.WARNING):
        lc = extract_file(ds.event_files[0], ExtractionParams(step=50.0), lref_dir=None)
    assert lc.meta["FLUXCAL"] == "UNCALIBRATED"
    assert "FLUXTAB" in lc.meta["FLUXNOTE"]
    assert any("uncalibrated" in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
    # Unity sensitivity: FLUX = net count rate per extracted column.
    np.testing.assert_allclose(lc.flux * lc.meta["NPIXEL"], lc.net, rtol=1e-9)


def test_background_scaled_by_source_over_background_height(tmp_path: Path) -> None:
    # Background only, flat in Y: the scaled background equals the gross in the box (NET ≈ 0). With the
    # original's inverted factor (h_b/(2 h_s) = 40/70) the background would be 0.33× too small.
    geo = {"FUVA": ExtractionGeometry(500.0, 70.0, 380.0, 40.0, 640.0, 40.0)}
    ds = make_cos_fuv(
        tmp_path, segments=("FUVA",), source_rate=0.0, background_rate=0.5, geometry=geo, seed=2
    )
    lc = extract_file(ds.event_files[0], ExtractionParams(step=1000.0))
    assert lc.meta["BKGSCL_A"] == pytest.approx(70 / 80)
    total_err = np.sqrt(np.sum(lc.error**2))
    assert abs(lc.counts.sum()) < 4 * total_err
    assert lc.background.sum() == pytest.approx(lc.gross.sum(), rel=0.05)


def test_tilted_spectrum_followed(tmp_path: Path) -> None:
    # Defect 11: SP_SLP. A trace tilted by 0.004 px/px leaves a flat box over ±30 px at the detector ends.
    geo = {"FUVA": ExtractionGeometry(500.0, 20.0, 380.0, 40.0, 640.0, 40.0, sp_slp=0.004)}
    ds = make_cos_fuv(
        tmp_path,
        segments=("FUVA",),
        geometry=geo,
        source_rate=200.0,
        background_rate=0.0,
        profile_sigma=3.0,
        seed=4,
    )
    lc = extract_file(ds.event_files[0], ExtractionParams(step=500.0, keep_airglow=True))
    truth = _seg_truth(ds, "FUVA")["n_source_clean"]
    assert lc.gross.sum() == pytest.approx(truth, rel=0.03)
    assert lc.meta["SLOPE_A"] == pytest.approx(0.004)


def test_minus_999_keywords_are_an_error(tmp_path: Path) -> None:
    ds = make_cos_fuv(tmp_path, segments=("FUVA",), geometry={"FUVA": None}, seed=1)
    with pytest.raises(ExtractionError, match=r"lb4m01aaq_corrtag_a.fits: SP_LOC_A is -999"):
        extract_file(ds.event_files[0], ExtractionParams())


def test_one_segment_minus_999_leaves_it_out_with_note(tmp_path: Path) -> None:
    ds = make_cos_fuv(tmp_path, geometry={"FUVB": None}, seed=1)
    lc = extract_file(ds.event_files[1], ExtractionParams(step=100.0))
    assert lc.meta["SRCFILE1"].endswith("_a.fits") and "SRCFILE2" not in lc.meta
    assert any("SP_LOC_B is -999" in str(v) for k, v in lc.meta.items() if k.startswith("NOTE"))


def test_nan_times_and_no_events_errors(fuv, tmp_path: Path) -> None:
    ds, _ref = fuv
    dataset = read_dataset(ds.event_files[0])
    seg = dataset.segments[0]
    t = seg.events.time.copy()
    t[5] = np.nan
    bad = Segment(
        seg.name,
        EventList(t, seg.events.x, seg.events.y, seg.events.wavelength, seg.events.epsilon, seg.events.dq),
        seg.gti,
        seg.exptime,
        seg.keywords,
        None,
        seg.source_file,
    )
    with pytest.raises(ExtractionError, match=r"_corrtag_a.fits: EVENTS TIME column has 1 NaN"):
        extract_dataset(Dataset(dataset.observation, (bad,)), ExtractionParams())
    empty = make_cos_fuv(tmp_path, segments=("FUVA",), source_rate=0.0, background_rate=0.0, airglow=None)
    with pytest.raises(ExtractionError, match="no events"):
        extract_file(empty.event_files[0], ExtractionParams())


def test_no_events_in_box(tmp_path: Path) -> None:
    ds = make_cos_fuv(tmp_path, segments=("FUVA",), source_rate=50.0, background_rate=0.0, seed=9)
    with pytest.raises(ExtractionError, match="no events in the extraction box"):
        extract_file(ds.event_files[0], ExtractionParams(wmin=1700.0, wmax=1800.0))


def test_injected_period_visible(tmp_path: Path) -> None:
    from astropy.timeseries import LombScargle

    ds = make_cos_fuv(
        tmp_path,
        segments=("FUVA",),
        signal=sinusoid(period=120.0, amplitude=0.2),
        source_rate=150.0,
        exptime=2000.0,
        gti=[[0, 900], [1100, 2000]],
        seed=6,
    )
    lc = extract_file(ds.event_files[0], ExtractionParams(step=5.0))
    freq = np.linspace(1 / 1000, 1 / 20, 5000)
    power = LombScargle(lc.times, lc.net, lc.error / lc.bins).power(freq)
    assert 1 / freq[np.argmax(power)] == pytest.approx(120.0, rel=0.02)
    assert power.max() > 0.3


def test_max_sun_alt_cut_is_a_gti_cut(fuv) -> None:
    ds, ref = fuv
    with fits.open(ds.event_files[0]) as hdul:
        tl = hdul["TIMELINE"].data
        t, alt = np.array(tl["TIME"], float), np.array(tl["SUN_ALT"], float)
    limit = float(np.median(alt))
    lc = extract_file(ds.event_files[0], ExtractionParams(step=10.0, max_sun_alt=limit), lref_dir=ref)
    full = extract_file(ds.event_files[0], ExtractionParams(step=10.0), lref_dir=ref)
    assert lc.meta["SUNCUT"] == "APPLIED" and lc.meta["MAXSUNAL"] == limit
    assert 0 < lc.bins.sum() < full.bins.sum()
    good_seconds = np.count_nonzero((alt <= limit) & (((t >= 0) & (t < 400)) | ((t >= 465) & (t < 1003))))
    assert lc.bins.sum() == pytest.approx(good_seconds, abs=3.0)


def test_pair_named_twice_is_one_dataset(fuv) -> None:
    ds, _ = fuv
    datasets, failed = load_datasets([ds.event_files[0], ds.event_files[1]])
    assert len(datasets) == 1 and not failed
    assert {s.name for s in datasets[0].segments} == {"FUVA", "FUVB"}


def test_group_key_and_params(fuv, settings) -> None:
    ds, _ = fuv
    obs = read_dataset(ds.event_files[0]).observation
    assert group_key(obs) == ("COS", "FUV", "SYNTH-WD1", "G130M", "1291", "PSA")
    assert group_key(obs, "WD 1")[2] == "WD 1"
    p = ExtractionParams.from_settings(settings, wmin=1200.0, step=None)
    assert p.step == settings.step and p.wmin == 1200.0 and p.keep_airglow is False
    with pytest.raises(ExtractionError, match="wmin"):
        ExtractionParams(wmin=1500, wmax=1400)
    with pytest.raises(ExtractionError, match="step"):
        ExtractionParams(step=0)


def test_meta_for_products(fuv) -> None:
    ds, ref = fuv
    lc = extract_file(
        ds.event_files[0],
        ExtractionParams(step=3.0, wmin=1150, wmax=1450),
        lref_dir=ref,
        targname="RESOLVED-NAME",
    )
    m = lc.meta
    for key in (
        "TELESCOP",
        "INSTRUME",
        "DETECTOR",
        "TARGNAME",
        "RA_TARG",
        "DEC_TARG",
        "OPT_ELEM",
        "CENWAVE",
        "APERTURE",
        "PROPOSID",
        "ROOTNAME",
        "EXPSTART",
        "EXPEND",
        "STEPSIZE",
        "WMIN",
        "WMAX",
        "XMIN",
        "XMAX",
        "YMIN_A",
        "YMAX_A",
        "YMIN_B",
        "YMAX_B",
        "AIRGLOW",
        "FLUXCAL",
        "SRCFILE1",
        "SRCFILE2",
    ):
        assert key in m, key
    assert m["TARGNAME"] == "RESOLVED-NAME" and m["TARGORIG"] == "SYNTH-WD1"
    assert (m["WMIN"], m["WMAX"], m["STEPSIZE"]) == (1150.0, 1450.0, 3.0)
    assert m["YMAX_A"] - m["YMIN_A"] == 35.0  # full odd/even height, no lost row
    assert all(len(k) <= 8 for k in m)


def test_any_aperture_rows_and_cenwave_specific_tds(tmp_path: Path) -> None:
    # Defect 8: FLUXTAB/TDSTAB rows with APERTURE 'ANY' match; the TDSTAB has one row per CENWAVE, so the
    # original's 3-key match found several rows ("Too many rows"); ours matches on 4 keys, one row.
    from hstlc.synthetic import make_cos_reference_files

    ds = make_cos_fuv(tmp_path / "data", segments=("FUVA",), aperture="BOA", seed=12)
    refs = make_cos_reference_files(tmp_path / "ref", any_aperture=True)
    path = ds.event_files[0]
    with fits.open(path, mode="update") as hdul:
        hdul[0].header["FLUXTAB"] = f"lref${refs['fluxtab'].name}"
        hdul[0].header["TDSTAB"] = f"lref${refs['tdstab'].name}"
    lc = extract_file(path, ExtractionParams(step=100.0), lref_dir=tmp_path / "ref")
    assert lc.meta["FLUXCAL"] == "CALIBRATED" and lc.meta["TDSCORR"] == "COMPLETE"
    assert not any("rows match" in str(v) for k, v in lc.meta.items() if k.startswith("NOTE"))
