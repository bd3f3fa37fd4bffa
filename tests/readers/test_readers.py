"""Readers: detection, COS corrtag datasets, observations, companion files, reference tables, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from hstlc.errors import InputFileError, UnsupportedProductError
from hstlc.readers import (
    DATASET_READERS,
    ProductKind,
    companion_files,
    detect_product,
    read_dataset,
    read_event_times,
    read_observation,
)
from hstlc.readers.reftables import (
    locate_reference,
    match_rows,
    read_fluxtab,
    read_tdstab,
    resolve_reference,
)
from hstlc.synthetic import make_cos_fuv


@pytest.fixture(scope="module")
def fuv_pair(tmp_path_factory: pytest.TempPathFactory):
    directory = tmp_path_factory.mktemp("fuv")
    return make_cos_fuv(
        directory, exptime=600.0, gti=[[0.0, 250.0], [300.0, 600.0]], source_rate=20.0,
        reference_dir=directory / "lref", seed=3,
    )


def test_detect_cos_fuv(fuv_pair) -> None:
    for path in fuv_pair.event_files:
        assert detect_product(path) is ProductKind.COS_FUV_CORRTAG
    assert set(DATASET_READERS) == {k for k in ProductKind if k.is_events}


def test_fuv_pair_is_one_dataset_from_either_file(fuv_pair) -> None:
    a, b = fuv_pair.event_files
    for path in (a, b):
        ds = read_dataset(path)
        assert [s.name for s in ds.segments] == ["FUVA", "FUVB"]
        assert ds.files == (str(a), str(b))
        assert ds.observation.filename == a.name
    ds = read_dataset(b)
    truth = fuv_pair.truth
    for seg in ds.segments:
        assert len(seg.events) == truth["segments"][seg.name]["n_events"]
        np.testing.assert_allclose(seg.gti, truth["gti"])  # the EXTVER=2 table, not the raw one
        assert seg.exptime == pytest.approx(truth["exptime"])
        assert seg.events.time.dtype == np.float32 and seg.events.time.dtype.isnative
        assert np.all((seg.events.time >= 0) & (seg.events.time <= 600))
        assert "SP_LOC_A" in seg.keywords and seg.keywords["EXPTIME"] == pytest.approx(truth["exptime"])
        assert seg.timeline is not None and {"time", "sun_alt"} <= set(seg.timeline)
        assert seg.source_file.endswith(f"_corrtag_{seg.name[-1].lower()}.fits")


def test_read_events_columns_match_file(fuv_pair) -> None:
    seg = read_dataset(fuv_pair.event_files[0]).segments[0]
    with fits.open(fuv_pair.event_files[0]) as hdul:
        data = hdul["EVENTS"].data
        np.testing.assert_array_equal(seg.events.x, data["XCORR"])
        np.testing.assert_array_equal(seg.events.y, data["YCORR"])
        np.testing.assert_array_equal(seg.events.wavelength, data["WAVELENGTH"])
        np.testing.assert_array_equal(seg.events.epsilon, data["EPSILON"])
        np.testing.assert_array_equal(seg.events.dq, data["DQ"])


def test_observation_keywords_from_the_right_hdu(fuv_pair) -> None:
    obs = read_observation(fuv_pair.event_files[1])
    assert (obs.instrume, obs.detector, obs.segment) == ("COS", "FUV", "FUVB")
    assert (obs.opt_elem, obs.cenwave, obs.aperture, obs.fppos) == ("G130M", 1291, "PSA", 3)
    assert obs.proposid == 12345 and isinstance(obs.proposid, int)
    assert obs.rootname == "lb4m01aaq" and obs.targname == "SYNTH-WD1"
    assert obs.expstart == pytest.approx(fuv_pair.truth["expstart"])
    assert obs.exptime == pytest.approx(600.0 - 50.0)
    assert obs.expflag == "NORMAL" and obs.sdqflags == fuv_pair.truth["sdqflags"]
    assert obs.header["FLUXTAB"].startswith("lref$")


def test_keyword_falls_back_to_the_other_header(tmp_path: Path) -> None:
    # EXPFLAG written only in the primary header, PROPOSID only in EVENTS: both still found.
    ds = make_cos_fuv(tmp_path, segments=("FUVA",), exptime=50.0, source_rate=1.0,
                      events_header={"EXPFLAG": None, "PROPOSID": 777},
                      primary_header={"EXPFLAG": "INTERRUPTED", "PROPOSID": None})
    obs = read_observation(ds.event_files[0])
    assert obs.expflag == "INTERRUPTED" and obs.proposid == 777


def test_imaging_cenwave_zero(tmp_path: Path) -> None:
    ds = make_cos_fuv(tmp_path, segments=("FUVA",), exptime=20.0, source_rate=1.0,
                      primary_header={"OBSTYPE": "IMAGING", "CENWAVE": 1291})
    assert read_observation(ds.event_files[0]).cenwave == 0


def test_segment_b_only(tmp_path: Path) -> None:
    ds = make_cos_fuv(tmp_path, segments=("FUVB",), exptime=30.0, source_rate=2.0)
    files = companion_files(ds.event_files[0])
    assert files.event_files == (ds.event_files[0],) and files.x1d is None
    assert [s.name for s in read_dataset(ds.event_files[0]).segments] == ["FUVB"]


def test_companion_files_with_x1d(tmp_path: Path, fuv_pair) -> None:
    a, b = fuv_pair.event_files
    assert companion_files(a).event_files == (a, b)
    assert companion_files(b).primary == a
    x1d = a.with_name("lb4m01aaq_x1d.fits")
    x1d.write_bytes(b"")
    try:
        assert companion_files(b).x1d == x1d
        assert companion_files(b).files == (a, b, x1d)
        assert companion_files(x1d).event_files == (a, b)
    finally:
        x1d.unlink()


def test_read_event_times(fuv_pair) -> None:
    obs, times = read_event_times(fuv_pair.event_files[0])
    assert obs.segment == "FUVA" and times.dtype.isnative
    assert len(times) == fuv_pair.truth["segments"]["FUVA"]["n_events"]


def test_reference_tables(fuv_pair) -> None:
    obs = read_observation(fuv_pair.event_files[0])
    lref = fuv_pair.event_files[0].parent / "lref"
    flux = read_fluxtab(resolve_reference(obs.header["FLUXTAB"], lref))
    rows = flux.match(segment="FUVA", opt_elem="G130M", cenwave=1291, aperture="PSA")
    assert len(rows) == 1 and rows[0].wavelength.shape == rows[0].sensitivity.shape
    tds = read_tdstab(resolve_reference(obs.header["TDSTAB"], lref))
    assert tds.ref_time > 0 and not tds.ref_time_missing
    (row,) = tds.match(opt_elem="G130M", aperture="PSA", segment="FUVA", cenwave=1291)
    assert row.slope.shape == (len(row.time), len(row.wavelength))
    with fits.open(tds.path) as hdul:
        assert hdul[1].header["REF_TIME"] == tds.ref_time
        raw = hdul[1].data
        i = next(k for k in range(len(raw)) if raw["SEGMENT"][k].strip() == "FUVA"
             and raw["OPT_ELEM"][k].strip() == "G130M" and raw["CENWAVE"][k] == 1291)
        assert len(row.wavelength) == raw["NWL"][i] and len(row.time) == raw["NT"][i]


def test_match_rows_any_wildcard() -> None:
    cols = {"SEGMENT": np.array(["FUVA", "FUVB", "FUVA"]), "APERTURE": np.array(["PSA", "PSA", "ANY"]),
            "CENWAVE": np.array([1291, 1291, 1300])}
    assert match_rows(cols, segment="fuva", aperture="BOA").tolist() == [2]
    assert match_rows(cols, segment="FUVA", aperture="PSA").tolist() == [0, 2]
    assert match_rows(cols, segment="FUVA", cenwave=1291).tolist() == [0]
    assert match_rows(cols, segment="FUVA", cenwave=None).tolist() == [0, 2]


def test_resolve_reference_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ref = tmp_path / "ref"
    ref.mkdir()
    (ref / "x_phot.fits").write_bytes(b"x")
    assert resolve_reference("lref$x_phot.fits", ref) == (ref / "x_phot.fits").absolute()
    assert resolve_reference("$lref/x_phot.fits", ref) == (ref / "x_phot.fits").absolute()
    assert resolve_reference("N/A", ref) is None
    assert resolve_reference("", ref) is None
    # No directory and no $lref: never a silent relative path.
    monkeypatch.chdir(ref)
    found = locate_reference("lref$x_phot.fits", None)
    assert found.path is None and "$lref" in found.reason
    monkeypatch.setenv("lref", str(ref))
    assert resolve_reference("lref$x_phot.fits", None) == (ref / "x_phot.fits").absolute()
    # The given directory first, then the environment variable.
    other = tmp_path / "other"
    other.mkdir()
    assert resolve_reference("lref$x_phot.fits", other) == (ref / "x_phot.fits").absolute()
    monkeypatch.delenv("lref")
    missing = locate_reference("lref$x_phot.fits", other)
    assert missing.path is None and "not found" in missing.reason


# ---------------------------------------------------------------------------------------------- bad input
def _copy_without(src: Path, dest: Path, *, drop_hdu: str | None = None, drop_column: str | None = None,
                  drop_key: str | None = None, nan_times: bool = False) -> Path:
    with fits.open(src) as hdul:
        hdus = [h.copy() for h in hdul if h.name != drop_hdu]
    out = fits.HDUList(hdus)
    if drop_column or nan_times:
        events = out["EVENTS"]
        cols = [c for c in events.columns if c.name != drop_column]
        new = fits.BinTableHDU.from_columns(fits.ColDefs(cols), header=events.header, name="EVENTS")
        if nan_times:
            new.data["TIME"][3] = np.nan
        out[out.index_of("EVENTS")] = new
    if drop_key:
        del out["EVENTS"].header[drop_key]
        if drop_key in out[0].header:
            del out[0].header[drop_key]
    out.writeto(dest)
    return dest


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_cos_fuv(tmp_path_factory.mktemp("small"), segments=("FUVA",), exptime=20.0,
                        source_rate=2.0, seed=1).event_files[0]


def test_not_fits(tmp_path: Path) -> None:
    path = tmp_path / "lb4m01zzq_corrtag_a.fits"
    path.write_text("hello world\n")
    with pytest.raises(InputFileError, match=r"^lb4m01zzq_corrtag_a.fits: not a FITS file"):
        read_dataset(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="file not found"):
        read_observation(tmp_path / "nope_corrtag_a.fits")


@pytest.mark.parametrize("keep", [5000, 12000, -3000])
def test_truncated(tmp_path: Path, small: Path, keep: int) -> None:
    data = small.read_bytes()
    path = tmp_path / "lb4m01zzq_corrtag_a.fits"
    path.write_bytes(data[:keep])
    with pytest.raises(InputFileError, match=r"^lb4m01zzq_corrtag_a.fits: truncated"):
        read_event_times(path)


def test_no_events_table(tmp_path: Path, small: Path) -> None:
    path = _copy_without(small, tmp_path / "lb4m01zzq_corrtag_a.fits", drop_hdu="EVENTS")
    with pytest.raises(UnsupportedProductError,
                       match=r"^lb4m01zzq_corrtag_a.fits: no EVENTS extension \(is this a COS corrtag\?\)$"):
        read_dataset(path)


def test_no_time_column(tmp_path: Path, small: Path) -> None:
    path = _copy_without(small, tmp_path / "lb4m01zzq_corrtag_a.fits", drop_column="TIME")
    with pytest.raises(
        InputFileError,
        match=r"^lb4m01zzq_corrtag_a.fits: EVENTS extension has no TIME column \(is this a COS corrtag\?\)$",
    ):
        read_event_times(path)


def test_missing_expstart(tmp_path: Path, small: Path) -> None:
    path = _copy_without(small, tmp_path / "lb4m01zzq_corrtag_a.fits", drop_key="EXPSTART")
    with pytest.raises(InputFileError,
                       match=r"^lb4m01zzq_corrtag_a.fits: missing keyword EXPSTART \(EVENTS header\)$"):
        read_observation(path)


def test_nan_times(tmp_path: Path, small: Path) -> None:
    path = _copy_without(small, tmp_path / "lb4m01zzq_corrtag_a.fits", nan_times=True)
    with pytest.raises(InputFileError, match=r"EVENTS TIME column has 1 NaN or infinite value\(s\)$"):
        read_dataset(path)


def test_unsupported_fits(tmp_path: Path) -> None:
    path = tmp_path / "image.fits"
    fits.HDUList([fits.PrimaryHDU(np.zeros((4, 4)))]).writeto(path)
    with pytest.raises(UnsupportedProductError, match="not a COS/STIS event list or x1d"):
        detect_product(path)
