"""Composites (trimming, membership, ordering; FORMATS.md §6 defect 12) and the product round trip."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table
from astropy.time import Time
from astropy.timeseries import TimeSeries

from hstlc.domain import LIGHTCURVE_COLUMNS
from hstlc.errors import ExtractionError
from hstlc.extraction import ExtractionParams, extract_file, make_composite
from hstlc.products import read_lightcurve, write_lightcurve
from hstlc.synthetic import make_cos_fuv


@pytest.fixture(scope="module")
def members(tmp_path_factory: pytest.TempPathFactory):
    d = tmp_path_factory.mktemp("comp")
    ref = d / "ref"
    late = make_cos_fuv(d, rootname="lb4m03acq", reference_dir=ref, expstart=55600.0, exptime=400.0, seed=1)
    early = make_cos_fuv(
        d,
        rootname="lb4m01aaq",
        reference_dir=ref,
        expstart=55500.0,
        exptime=300.0,
        segments=("FUVA",),
        seed=2,
    )
    empty = make_cos_fuv(
        d,
        rootname="lb4m02abq",
        reference_dir=ref,
        expstart=55550.0,
        exptime=300.0,
        segments=("FUVA",),
        source_rate=0.0,
        background_rate=0.0,
        airglow=None,
        seed=3,
    )
    return {"late": late, "early": early, "empty": empty, "ref": ref}


def test_composite_membership_order_and_monotonic_times(members, caplog: pytest.LogCaptureFixture) -> None:
    paths = [
        members["late"].event_files[1],
        members["empty"].event_files[0],
        members["early"].event_files[0],
        members["late"].event_files[0],
    ]
    with caplog.at_level(logging.WARNING):
        lc = make_composite(paths, ExtractionParams(step=10.0), lref_dir=members["ref"])
    # The empty member is left out with a logged reason; the pair named twice counts once.
    assert any("lb4m02abq" in r.getMessage() and "left out" in r.getMessage() for r in caplog.records)
    assert lc.meta["NMEMBERS"] == 2
    # DATASET numbers members in time order; TIMES are seconds since the earliest EXPSTART (monotonic).
    assert lc.dataset[0] == 1 and set(lc.dataset.tolist()) == {1, 2}
    assert np.all(np.diff(lc.times) > 0)
    np.testing.assert_allclose(lc.mjd, 55500.0 + lc.times / 86400.0, rtol=0, atol=1e-9)
    assert lc.times[lc.dataset == 2][0] == pytest.approx(100 * 86400.0)
    assert lc.meta["ROOTNAME"] == ["lb4m01aaq", "lb4m03acq"]


def test_composite_wavelength_window_from_extraction_boxes(members) -> None:
    # The FUVA-only member (≈1291–1431 Å) limits the pair (≈1134–1431 Å) to their common range.
    params = ExtractionParams(step=10.0)
    lc = make_composite(
        [members["early"].event_files[0], members["late"].event_files[0]], params, lref_dir=members["ref"]
    )
    assert 1290.0 < lc.meta["WMIN"] < 1293.0 and 1428.0 < lc.meta["WMAX"] < 1431.0
    # Members are re-extracted inside that window: the pair keeps its FUVA light only.
    late_alone = extract_file(members["late"].event_files[0], params, lref_dir=members["ref"])
    late_trimmed = extract_file(
        members["late"].event_files[0],
        ExtractionParams(step=10.0, wmin=lc.meta["WMIN"], wmax=lc.meta["WMAX"]),
        lref_dir=members["ref"],
    )
    assert lc.gross[lc.dataset == 2].sum() == pytest.approx(late_trimmed.gross.sum())
    assert late_trimmed.gross.sum() < 0.7 * late_alone.gross.sum()


def test_composite_of_nothing_valid_is_an_error(members) -> None:
    with pytest.raises(ExtractionError, match="composite: no member has valid events"):
        make_composite([members["empty"].event_files[0]], ExtractionParams())


def test_product_round_trip_and_timeseries(members, tmp_path: Path) -> None:
    lc = extract_file(members["late"].event_files[0], ExtractionParams(step=7.0), lref_dir=members["ref"])
    path = write_lightcurve(lc, tmp_path / "lb4m03acq_curve.fits")
    back = read_lightcurve(path)
    for name in LIGHTCURVE_COLUMNS:
        np.testing.assert_array_equal(getattr(back, name), getattr(lc, name), err_msg=name)
    table = Table.read(path, hdu="LIGHTCURVE")
    assert str(table["NET"].unit) in ("ct / s", "count / s")
    assert table["FLUX"].unit.to_string() in ("erg / (Angstrom s cm2)", "erg / (Angstrom cm2 s)")
    ts = TimeSeries(time=Time(table["MJD"], format="mjd"), data={"flux": table["FLUX"]})
    assert len(ts) == len(lc) and ts.time[0].mjd == pytest.approx(lc.mjd[0])
    assert back.meta["FLUXCAL"] == "CALIBRATED" and back.meta["STEPSIZE"] == 7.0
    assert back.meta["YMAX_A"] - back.meta["YMIN_A"] == 35.0
    assert back.meta["TIMEPIXR"] == 0


def test_composite_round_trip(members, tmp_path: Path) -> None:
    lc = make_composite(
        [members["early"].event_files[0], members["late"].event_files[0]],
        ExtractionParams(step=10.0),
        lref_dir=members["ref"],
    )
    path = write_lightcurve(lc, tmp_path / "composite.fits")
    back = read_lightcurve(path)
    np.testing.assert_array_equal(back.dataset, lc.dataset)
    np.testing.assert_array_equal(back.times, lc.times)
    assert back.meta["FLUXCAL"] == "CALIBRATED"


@pytest.mark.slow
def test_member_window_without_binning_equals_the_extraction(tmp_path: Path) -> None:
    # A composite's first look at each member (wavelength range of the selected source events, flux
    # calibrated or not) skips the binning; it must agree with a full extraction exactly.
    from hstlc.extraction import _extract, _window
    from hstlc.readers import read_dataset
    from hstlc.synthetic.cos import make_cos_nuv
    from hstlc.synthetic.stis import make_stis_tag

    cases = [
        (make_cos_fuv(tmp_path / "fuv", reference_dir=tmp_path / "lref", seed=21), tmp_path / "lref", {}),
        (make_cos_fuv(tmp_path / "gti", reference_dir=tmp_path / "lref", gti=[[0, 200], [260, 900]],
                      exptime=900.0, seed=22), tmp_path / "lref", {"wmin": 1200.0, "wmax": 1400.0}),
        (make_cos_nuv(tmp_path / "nuv", reference_dir=tmp_path / "lref2", seed=23), tmp_path / "lref2", {}),
        (make_stis_tag(tmp_path / "stis", source_rate=60.0, seed=24), None, {"keep_airglow": True}),
        (make_cos_fuv(tmp_path / "nocal", seed=25), None, {}),  # no FLUXTAB: uncalibrated
    ]
    for generated, lref, options in cases:
        dataset = read_dataset(generated.event_files[0], lref_dir=lref)
        params = ExtractionParams(step=7.0, **options)
        full = _extract(dataset, params, lref_dir=lref, targname=None)
        assert _window(dataset, params, lref_dir=lref) == (full.wavelength_min, full.wavelength_max,
                                                           full.calibrated)
    assert full.calibrated is False


def test_known_member_windows_give_the_same_composite_with_one_read_each(members, monkeypatch) -> None:
    # Ingest knows each member's window from its own extraction: the composite must come out the same,
    # reading every member once instead of twice.
    import hstlc.extraction as extraction
    import hstlc.extraction.composite as composite_module
    from hstlc.readers import read_dataset

    paths = [str(members["late"].event_files[0]), str(members["early"].event_files[0])]
    params = ExtractionParams(step=10.0)
    reads: list[str] = []

    def counting(path, **kwargs):
        reads.append(str(path))
        return read_dataset(path, **kwargs)

    monkeypatch.setattr(composite_module, "read_dataset", counting)  # make_composite's and load_datasets'
    plain = make_composite(paths, params, lref_dir=members["ref"])
    assert len(reads) == 4  # window pass and extraction pass, one member in memory at a time
    windows = {}
    for path in paths:
        _, windows[path] = extraction.extract_with_window(read_dataset(path, lref_dir=members["ref"]), params,
                                                          lref_dir=members["ref"])
    reads.clear()
    known = make_composite(paths, params, lref_dir=members["ref"], windows=windows)
    assert len(reads) == 2
    assert known.meta["WMIN"] == plain.meta["WMIN"] and known.meta["WMAX"] == plain.meta["WMAX"]
    for name in ("times", "gross", "flux", "dataset"):
        np.testing.assert_array_equal(getattr(known, name), getattr(plain, name))
