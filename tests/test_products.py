"""Lightcurve products: names, FITS round trip, HLSP/FITS-time keywords, atomic writes, old products."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from astropy.time import Time
from astropy.timeseries import TimeSeries
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hstlc.domain import LIGHTCURVE_COLUMNS, LightCurve
from hstlc.errors import FilingError, InputFileError
from hstlc.products import (
    PRODUCT_COLUMNS,
    composite_filename,
    file_sha256,
    individual_filename,
    member_values,
    read_lightcurve,
    write_lightcurve,
)

EXPSTART = 56800.25
STEP = 30.0

IDENTITY = {
    "TELESCOP": "HST",
    "INSTRUME": "COS",
    "DETECTOR": "FUV",
    "TARGNAME": "GD71",
    "RA_TARG": 88.115,
    "DEC_TARG": 15.886,
    "EQUINOX": 2000.0,
    "OPT_ELEM": "G130M",
    "CENWAVE": 1291,
    "APERTURE": "PSA",
    "PROPOSID": 13902,
    "ROOTNAME": "LB4M01AAQ",
    "EXPSTART": EXPSTART,
    "EXPEND": EXPSTART + 1000.0 / 86400,
}
EXTRACTION = {
    "STEPSIZE": STEP,
    "WMIN": 1150.0,
    "WMAX": 1450.0,
    "XMIN": 1000,
    "XMAX": 15000,
    "YMIN_A": 480.5,
    "YMAX_A": 520.5,
    "YMIN_B": 540.0,
    "YMAX_B": 580.0,
    "AIRGLOW": False,
    "FLUXCAL": "CALIBRATED",
    "FLUXNOTE": "FLUXTAB and TDSTAB applied",
    "SRCFILE1": "lb4m01aaq_corrtag_a.fits",
    "SRCFILE2": "lb4m01aaq_corrtag_b.fits",
}


def make_lightcurve(
    n: int = 20, *, datasets: np.ndarray | None = None, meta: dict[str, Any] | None = None, seed: int = 1
) -> LightCurve:
    rng = np.random.default_rng(seed)
    times = np.arange(n, dtype=np.float64) * STEP
    bins = np.full(n, STEP)
    if n:
        bins[-1] = 12.5  # partial last bin
    gross = rng.poisson(200, n).astype(np.float64) + rng.random(n)
    background = rng.random(n) * 5
    counts = gross - background
    error = np.sqrt(gross + background)
    net = counts / bins
    flux = net * 1.7e-15
    return LightCurve(
        times=times,
        mjd=EXPSTART + times / 86400,
        bins=bins,
        gross=gross,
        background=background,
        counts=counts,
        net=net,
        error=error,
        flux=flux,
        flux_error=error / bins * 1.7e-15,
        signal_to_noise=counts / error,
        dataset=np.ones(n, dtype=np.int32) if datasets is None else datasets.astype(np.int32),
        meta={**IDENTITY, **EXTRACTION} if meta is None else meta,
    )


def assert_columns_equal(a: LightCurve, b: LightCurve) -> None:
    for name in LIGHTCURVE_COLUMNS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


# ---------------------------------------------------------------------------------------------- names


def test_individual_filename() -> None:
    assert individual_filename("LB4M01AAQ") == "lb4m01aaq_curve.fits"
    assert individual_filename("odj701010") == "odj701010_curve.fits"
    hostile = individual_filename("../../etc/x")
    assert "/" not in hostile and not hostile.startswith(".") and hostile.endswith("_curve.fits")


def test_composite_filename_examples() -> None:
    assert (
        composite_filename("COS", "FUV", "GD71", "G130M", 1291, "PSA")
        == "hlsp_hstlc_hst_cos-fuv_gd71_g130m_1291_psa_v1_sci.fits"
    )
    assert (
        composite_filename("STIS", "FUV-MAMA", "GD153", "E140M", 1425, "0.2X0.2")
        == "hlsp_hstlc_hst_stis-fuv-mama_gd153_e140m_1425_0.2x0.2_v1_sci.fits"
    )
    assert composite_filename("COS", "NUV", "X", "MIRRORA", 0, "PSA").endswith("_mirrora_0_psa_v1_sci.fits")
    assert "52x0.2" in composite_filename("STIS", "NUV-MAMA", "T", "G230L", "2376", "52X0.2")


@pytest.mark.parametrize(
    "hostile",
    ["../../etc", "/abs/path", "a\\b", "\x00", "..", "x" * 600, "ÄÖÜ\nname", "CON"],
)
def test_composite_filename_never_forms_a_path(hostile: str) -> None:
    name = composite_filename(hostile, hostile, hostile, hostile, hostile, hostile)
    assert "/" not in name and "\\" not in name and "\x00" not in name and ".." not in name
    assert name == name.lower() and name.startswith("hlsp_hstlc_hst_") and name.endswith("_v1_sci.fits")
    assert len(name) < 255
    assert Path(name).name == name


def test_composite_filename_distinguishes_hostile_targets() -> None:
    assert composite_filename("COS", "FUV", "a/b", "G130M", 1291, "PSA") != composite_filename(
        "COS", "FUV", "a b", "G130M", 1291, "PSA"
    )


# ----------------------------------------------------------------------------------------- round trip


def test_individual_round_trip(tmp_path: Path) -> None:
    lc = make_lightcurve()
    path = write_lightcurve(lc, tmp_path / individual_filename("LB4M01AAQ"))
    assert path == tmp_path / "lb4m01aaq_curve.fits"
    back = read_lightcurve(path)
    assert_columns_equal(lc, back)
    for name in LIGHTCURVE_COLUMNS:
        expected = np.int32 if name == "dataset" else np.float64
        assert getattr(back, name).dtype == expected, name
    for key, value in {**IDENTITY, **EXTRACTION}.items():
        if key == "EQUINOX":
            continue
        assert back.meta[key] == value, key
    assert back.meta["FILTER"] == "G130M"
    assert back.meta["FILETYPE"] == "LIGHTCURVE"
    assert back.meta["HLSPTARG"] == "GD71"
    assert back.meta["TIMEDEL"] == STEP


def test_header_layout_and_formats(tmp_path: Path) -> None:
    path = write_lightcurve(make_lightcurve(), tmp_path / "x_curve.fits")
    with fits.open(path) as hdul:
        assert [h.name for h in hdul] == ["PRIMARY", "LIGHTCURVE"]
        primary, ext = hdul[0].header, hdul[1].header
        table = hdul[1]
        assert [c.name for c in table.columns] == ["time"] + [c.upper() for c in PRODUCT_COLUMNS[1:]]
        formats = {c.name: c.format for c in table.columns}
        assert formats.pop("DATASET") == "J"
        assert formats.pop("time") == "26A"
        assert set(formats.values()) == {"D"}
        units = {c.name: c.unit for c in table.columns}
        assert units["TIMES"] == "s" and units["MJD"] == "d" and units["BINS"] == "s"
        for name in ("TIMES", "MJD", "BINS", "GROSS", "NET", "FLUX", "FLUX_ERROR"):
            u.Unit(units[name], format="fits")  # parses without error
        assert units["DATASET"] is None and units["SIGNAL_TO_NOISE"] is None
        # identity in primary; extraction parameters in the extension
        for key in (
            "TELESCOP",
            "INSTRUME",
            "DETECTOR",
            "TARGNAME",
            "OPT_ELEM",
            "CENWAVE",
            "APERTURE",
            "PROPOSID",
            "ROOTNAME",
            "EXPSTART",
            "EXPEND",
            "SRCFILE1",
            "SRCFILE2",
            "FLUXCAL",
        ):
            assert key in primary, key
        for key in ("STEPSIZE", "WMIN", "WMAX", "XMIN", "XMAX", "YMIN_A", "YMAX_B", "AIRGLOW"):
            assert key in ext and key not in primary, key
        # MAST HLSP / provenance
        for key in (
            "HLSPNAME",
            "HLSPACRN",
            "HLSPID",
            "HLSPLEAD",
            "HLSPVER",
            "HLSPTARG",
            "LICENURL",
            "OBSERVAT",
            "HSTLCVER",
            "NUMPYVER",
            "ASTROVER",
            "DATE",
            "FILETYPE",
        ):
            assert key in primary, key
        assert primary["LICENSE"] == "CC BY 4.0"
        assert primary["FILTER"] == "G130M"
        assert ext["BUNIT"] and u.Unit(ext["BUNIT"], format="fits") == u.erg / u.s / u.cm**2 / u.AA
        for header in (primary, ext):
            assert header["RADESYS"] == "ICRS"
            assert "EQUINOX" not in header
            assert header["RA_TARG"] == IDENTITY["RA_TARG"]
        assert hdul[1].verify_checksum() == 1


def test_fits_time_keywords(tmp_path: Path) -> None:
    lc = make_lightcurve()
    path = write_lightcurve(lc, tmp_path / "x_curve.fits")
    with fits.open(path) as hdul:
        for header in (hdul[0].header, hdul[1].header):
            assert header["TIMESYS"] == "UTC"
            assert header["TIMEREF"] == "LOCAL"
            assert header["TREFPOS"] == "TOPOCENTER"
            assert header["TIMEUNIT"] == "s"
            assert header["MJDREF"] == EXPSTART
            assert header["TIMEPIXR"] == 0
            assert header["TIMEDEL"] == STEP
            assert header["TSTART"] == 0.0
            # the last bin starts at 19*30 = 570 s with 12.5 s of good time: the data end at 582.5 s
            assert header["TSTOP"] == pytest.approx(582.5)
            assert header["TELAPSE"] == pytest.approx(582.5)
            assert header["XPOSURE"] == pytest.approx(19 * STEP + 12.5)
            assert header["MJD-BEG"] == pytest.approx(EXPSTART)
            assert header["MJD-END"] == pytest.approx(EXPSTART + 582.5 / 86400)
            assert header["DATE-OBS"] == "2014-05-23T06:00:00.000"
            assert header["DATE-BEG"] == header["DATE-OBS"]
            assert header["DATE-END"] == "2014-05-23T06:09:42.500"
            # ISO with a T, parseable by astropy as FITS time
            assert Time(header["DATE-END"], format="isot", scale="utc").mjd == pytest.approx(
                header["MJD-END"], abs=1e-9
            )


def test_tstop_not_clipped_to_expend(tmp_path: Path) -> None:
    # calcos leaves EXPEND at the raw end when it trims the GTIs (FORMATS.md §9): the data decide.
    meta = {**IDENTITY, **EXTRACTION, "EXPEND": EXPSTART + 580.0 / 86400}
    path = write_lightcurve(make_lightcurve(meta=meta), tmp_path / "x.fits")
    header = fits.getheader(path, 1)
    assert header["TSTOP"] == pytest.approx(582.5)
    assert header["XPOSURE"] <= header["TELAPSE"]


def test_mjdref_derived_without_expstart(tmp_path: Path) -> None:
    lc = make_lightcurve(meta={"TARGNAME": "X"})
    path = write_lightcurve(lc, tmp_path / "x.fits")
    header = fits.getheader(path, 1)
    assert header["MJDREF"] == pytest.approx(EXPSTART)
    assert "TIMEDEL" not in header  # no STEPSIZE given: no invented bin width
    assert header["TSTOP"] == pytest.approx(570 + 12.5)


def test_fk5_keeps_equinox(tmp_path: Path) -> None:
    meta = {**IDENTITY, "RADESYS": "FK5"}
    path = write_lightcurve(make_lightcurve(meta=meta), tmp_path / "x.fits")
    with fits.open(path) as hdul:
        for header in (hdul[0].header, hdul[1].header):
            assert header["RADESYS"] == "FK5"
            assert header["EQUINOX"] == 2000.0


def test_composite_round_trip_and_multi_keywords(tmp_path: Path) -> None:
    datasets = np.repeat(np.arange(1, 4), [5, 6, 4])
    meta = {
        **IDENTITY,
        "INSTRUME": ["COS", "COS", "COS"],
        "DETECTOR": ("FUV", "FUV", "FUV"),
        "OPT_ELEM": ["G130M", "G160M", "G130M"],
        "ROOTNAME": ["lb4m01aaq", "lb4m02abq", "lb4m03acq"],
        "WMIN": 1200.0,
        "WMAX": 1400.0,
    }
    lc = make_lightcurve(15, datasets=datasets, meta=meta)
    path = write_lightcurve(lc, tmp_path / composite_filename("COS", "FUV", "GD71", "MULTI", 1291, "PSA"))
    back = read_lightcurve(path)
    assert_columns_equal(lc, back)
    assert set(back.dataset.tolist()) == {1, 2, 3}
    with fits.open(path) as hdul:
        primary = hdul[0].header
        assert primary["INSTRUME"] == "COS"
        assert primary["DETECTOR"] == "FUV"
        assert primary["FILTER"] == "MULTI"
        assert primary["OPT_ELEM"] == "MULTI"
        assert primary["ROOTNAME"] == "MULTI"
        # every member numbered, not only 01 (the original's bug)
        assert [primary[f"FILTER{i:02d}"] for i in (1, 2, 3)] == ["G130M", "G160M", "G130M"]
        assert [primary[f"INSTRU{i:02d}"] for i in (1, 2, 3)] == ["COS"] * 3
        assert [primary[f"DETECT{i:02d}"] for i in (1, 2, 3)] == ["FUV"] * 3
        assert primary["ROOTNA03"] == "lb4m03acq"
        assert primary["FILETYPE"] == "COMPOSITE LIGHTCURVE"
        assert hdul[1].header["FILTER"] == "MULTI"
    assert member_values(back.meta, "OPT_ELEM") == ["G130M", "G160M", "G130M"]
    assert member_values(back.meta, "INSTRUME") == ["COS"] * 3
    assert member_values(
        read_lightcurve(write_lightcurve(make_lightcurve(), tmp_path / "i.fits")).meta, "OPT_ELEM"
    ) == ["G130M"]


def test_rewrite_of_read_product_is_stable(tmp_path: Path) -> None:
    datasets = np.repeat([1, 2], [10, 10])
    meta = {**IDENTITY, "OPT_ELEM": ["G130M", "G160M"]}
    first = read_lightcurve(
        write_lightcurve(make_lightcurve(datasets=datasets, meta=meta), tmp_path / "a.fits")
    )
    second = read_lightcurve(write_lightcurve(first, tmp_path / "b.fits"))
    assert_columns_equal(first, second)
    ignore = {"DATE"}
    assert {k: v for k, v in first.meta.items() if k not in ignore} == {
        k: v for k, v in second.meta.items() if k not in ignore
    }


def test_empty_lightcurve_round_trip(tmp_path: Path) -> None:
    lc = make_lightcurve(0)
    back = read_lightcurve(write_lightcurve(lc, tmp_path / "empty.fits"))
    assert len(back) == 0
    assert back.meta["MJDREF"] == EXPSTART


# ------------------------------------------------------------------------------------ astropy readers


def test_astropy_table_read_gives_quantities(tmp_path: Path) -> None:
    path = write_lightcurve(make_lightcurve(), tmp_path / "x.fits")
    table = Table.read(path, hdu="LIGHTCURVE")
    assert table["TIMES"].unit == u.s
    assert table["MJD"].unit == u.d
    assert table["NET"].unit == u.count / u.s
    assert table["GROSS"].unit == u.count
    assert table["FLUX"].unit == u.erg / u.s / u.cm**2 / u.AA
    net = table["NET"].quantity
    assert net.to(u.count / u.min)[0].value == pytest.approx(table["NET"][0] * 60)


def test_convert_to_timeseries(tmp_path: Path) -> None:
    lc = make_lightcurve()
    path = write_lightcurve(lc, tmp_path / "x.fits")
    table = Table.read(path, hdu="LIGHTCURVE")
    series = TimeSeries(
        time=Time(table["MJD"].value, format="mjd", scale="utc"),
        data={"net": table["NET"].quantity, "flux": table["FLUX"].quantity},
    )
    assert len(series) == len(lc)
    assert series.time[0].isot == "2014-05-23T06:00:00.000"
    assert series["net"].unit == u.count / u.s
    # time from MJDREF + TIMES agrees with MJD
    header = fits.getheader(path, "LIGHTCURVE")
    rel = Time(header["MJDREF"], format="mjd", scale="utc") + table["TIMES"].quantity
    np.testing.assert_allclose((rel - series.time).to_value(u.s), 0, atol=1e-6)


# --------------------------------------------------------------------------------- original products


def write_original_style(path: Path, lc: LightCurve, *, extname: str | None, dataset: bool) -> None:
    """As the original pipeline wrote them: lower-case names, shuffled order, no TUNIT, maybe no EXTNAME."""
    order = [
        "dataset",
        "times",
        "mjd",
        "bins",
        "gross",
        "background",
        "flux",
        "counts",
        "error",
        "flux_error",
        "net",
        "signal_to_noise",
    ]
    if not dataset:
        order.remove("dataset")
    cols = [fits.Column(name=n, format="D", array=getattr(lc, n).astype(np.float64)) for n in order]
    table = fits.BinTableHDU.from_columns(cols)
    if extname:
        table.header["EXTNAME"] = extname
    table.header["GEN_DATE"] = "2016-01-01 00:00:00"
    table.header["STEPSIZE"] = 5
    table.header["HIERARCH GEN_LONG_KEYWORD"] = "x"
    primary = fits.PrimaryHDU()
    primary.header["TARGNAME"] = "GD71"
    fits.HDUList([primary, table]).writeto(path)


@pytest.mark.parametrize(("extname", "dataset"), [(None, False), (None, True), ("LIGHTCURVE", True)])
def test_reads_original_pipeline_products(tmp_path: Path, extname: str | None, dataset: bool) -> None:
    lc = make_lightcurve(datasets=np.repeat([1, 2], 10) if dataset else None)
    path = tmp_path / "old_curve.fits"
    write_original_style(path, lc, extname=extname, dataset=dataset)
    back = read_lightcurve(path)
    assert_columns_equal(lc, back)
    assert back.dataset.dtype == np.int32 and back.times.dtype == np.float64
    assert back.meta["TARGNAME"] == "GD71"
    assert back.meta["STEPSIZE"] == 5
    assert back.meta["GEN_LONG_KEYWORD"] == "x"
    assert "TTYPE1" not in back.meta and "NAXIS" not in back.meta


def test_reads_lightcurve_extension_not_first_table(tmp_path: Path) -> None:
    lc = make_lightcurve()
    path = write_lightcurve(lc, tmp_path / "x.fits")
    with fits.open(path) as hdul:
        other = fits.BinTableHDU.from_columns(
            [fits.Column(name="A", format="D", array=np.zeros(3))], name="OTHER"
        )
        fits.HDUList([hdul[0].copy(), other, hdul[1].copy()]).writeto(tmp_path / "y.fits")
    assert_columns_equal(lc, read_lightcurve(tmp_path / "y.fits"))


# ----------------------------------------------------------------------------------------- malformed


def test_malformed_inputs_raise_input_file_error(tmp_path: Path) -> None:
    not_fits = tmp_path / "notfits_curve.fits"
    not_fits.write_text("hello, I am not FITS\n" * 200)
    with pytest.raises(InputFileError, match=r"^notfits_curve\.fits: "):
        read_lightcurve(not_fits)

    with pytest.raises(InputFileError, match=r"^missing_curve\.fits: no such file"):
        read_lightcurve(tmp_path / "missing_curve.fits")

    image_only = tmp_path / "image.fits"
    fits.PrimaryHDU(np.zeros((3, 3))).writeto(image_only)
    with pytest.raises(InputFileError, match=r"^image\.fits: no LIGHTCURVE extension and no table extension"):
        read_lightcurve(image_only)

    no_net = tmp_path / "nonet.fits"
    cols = [fits.Column(name=n, format="D", array=np.zeros(3)) for n in LIGHTCURVE_COLUMNS if n != "net"]
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols, name="LIGHTCURVE")]).writeto(no_net)
    with pytest.raises(InputFileError, match=r"^nonet\.fits: LIGHTCURVE extension has no NET column"):
        read_lightcurve(no_net)

    text_col = tmp_path / "textcol.fits"
    cols = [fits.Column(name=n, format="D", array=np.zeros(3)) for n in LIGHTCURVE_COLUMNS if n != "gross"]
    cols.append(fits.Column(name="gross", format="5A", array=np.array(["a", "b", "c"])))
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(text_col)
    with pytest.raises(InputFileError, match=r"^textcol\.fits: column GROSS is not numeric"):
        read_lightcurve(text_col)


@pytest.mark.parametrize("cut", [100, 4000, 20000])
def test_truncated_product_raises(tmp_path: Path, cut: int) -> None:
    path = write_lightcurve(make_lightcurve(200), tmp_path / "x.fits")
    data = path.read_bytes()
    truncated = tmp_path / "trunc_curve.fits"
    truncated.write_bytes(data[: len(data) - cut])
    with pytest.raises(InputFileError, match=r"^trunc_curve\.fits: (file is truncated|not a readable FITS)"):
        read_lightcurve(truncated)


# ------------------------------------------------------------------------------------- atomic writing


def test_refuses_to_overwrite_without_flag(tmp_path: Path) -> None:
    path = tmp_path / "x_curve.fits"
    write_lightcurve(make_lightcurve(seed=1), path)
    before = path.read_bytes()
    with pytest.raises(FilingError, match=r"x_curve\.fits: already exists; not replaced"):
        write_lightcurve(make_lightcurve(seed=2), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x_curve.fits"]
    write_lightcurve(make_lightcurve(seed=2), path, overwrite=True)
    assert read_lightcurve(path).gross[0] == make_lightcurve(seed=2).gross[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x_curve.fits"]


def test_refuses_existing_file_appearing_during_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file created by someone else between the check and the rename is not clobbered."""
    path = tmp_path / "race.fits"
    real_fsync = os.fsync

    def fsync_then_someone_writes(fd: int) -> None:
        real_fsync(fd)
        if not path.exists():
            path.write_bytes(b"theirs")

    monkeypatch.setattr(os, "fsync", fsync_then_someone_writes)
    with pytest.raises(FilingError, match="already exists"):
        write_lightcurve(make_lightcurve(), path)
    assert path.read_bytes() == b"theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.fits"]


def test_failing_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_writeto(self: fits.HDUList, fileobj: Any, **kwargs: Any) -> None:
        fileobj.write(b"SIMPLE  =  partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fits.HDUList, "writeto", broken_writeto)
    with pytest.raises(FilingError, match=r"x_curve\.fits: could not be written \(No space left on device\)"):
        write_lightcurve(make_lightcurve(), tmp_path / "x_curve.fits")
    assert list(tmp_path.iterdir()) == []


def test_failing_fsync_leaves_no_file_and_keeps_old(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x_curve.fits"
    write_lightcurve(make_lightcurve(seed=1), path)
    before = path.read_bytes()

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(FilingError, match="could not be written"):
        write_lightcurve(make_lightcurve(seed=2), path, overwrite=True)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x_curve.fits"]


def test_interrupt_during_write_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(self: fits.HDUList, fileobj: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(fits.HDUList, "writeto", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_lightcurve(make_lightcurve(), tmp_path / "x.fits")
    assert list(tmp_path.iterdir()) == []


def test_write_creates_folders_and_refuses_folder_target(tmp_path: Path) -> None:
    path = write_lightcurve(make_lightcurve(), tmp_path / "a" / "b" / "x.fits")
    assert path.is_file()
    with pytest.raises(FilingError, match="is a folder"):
        write_lightcurve(make_lightcurve(), tmp_path / "a")


# ------------------------------------------------------------------------------------ hostile headers


def test_hostile_meta_values_do_not_crash(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    meta: dict[str, Any] = {
        **IDENTITY,
        "TARGNAME": "GD71\nEND     ",
        "FLUXNOTE": "ünïcödé — “quotes” ✓ 中文",
        "SRCFILE1": "x" * 500,
        "NOTE": "it's a 'quoted' value" * 30,
        "CTRL": "a\x00b\x1bc\td",
        "NANVAL": float("nan"),
        "INFVAL": np.inf,
        "NONEVAL": None,
        "NPINT": np.int64(7),
        "NPFLOAT": np.float32(1.5),
        "NPBOOL": np.bool_(True),
        "BYTES": b"\xff\xfebytes",
        "HUGEINT": 10**30,
        "lowercase": "kept",
        "A_VERY_LONG_HIERARCH_KEYWORD_NAME": "y" * 300,
        "K" * 70: "dropped: key too long",
        "BAD KEY": 1,
        "BAD=KEY": 1,
        "ÜMLAUT": 1,
        "NAXIS": 99,
        "TTYPE1": "HACK",
        "EXTNAME": "HACK",
        "COMMENTED": ("value", "a comment with ü and\nnewline"),
        "HISTORY": ["made by a test", "second line ✓"],
        7: "non-string key",
    }
    path = write_lightcurve(make_lightcurve(meta=meta), tmp_path / "x.fits")
    back = read_lightcurve(path)
    m = back.meta
    assert m["TARGNAME"] == "GD71 END"
    assert m["FLUXNOTE"].isascii() and m["FLUXNOTE"].startswith("unicode")
    assert m["SRCFILE1"] == "x" * 500
    assert m["NOTE"] == "it's a 'quoted' value" * 30
    assert m["CTRL"] == "a b c d"
    assert "NANVAL" not in m and "INFVAL" not in m and "NONEVAL" not in m
    assert m["NPINT"] == 7 and m["NPFLOAT"] == 1.5 and m["NPBOOL"] is True
    assert m["BYTES"].isascii()
    assert m["HUGEINT"] == str(10**30)
    assert m["LOWERCASE"] == "kept"
    assert m["A_VERY_LONG_HIERARCH_KEYWORD_NAME"].startswith("yyyy")
    assert "K" * 70 not in m and "BAD KEY" not in m and "BAD=KEY" not in m
    assert m["COMMENTED"] == "value"
    assert m["HISTORY"][0] == "made by a test"
    with fits.open(path) as hdul:
        assert hdul[1].header["TTYPE1"] == "time"  # not the meta's "HACK"
        assert hdul[1].header["NAXIS"] == 2
        assert hdul[1].name == "LIGHTCURVE"
        hdul.verify("exception")
    assert "dropped" in caplog.text


def test_file_sha256(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    data = os.urandom(3 * (1 << 20) + 17)
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    with pytest.raises(InputFileError, match=r"^nope\.bin: cannot read file"):
        file_sha256(tmp_path / "nope.bin")


meta_values = st.one_of(
    st.text(max_size=600),
    st.binary(max_size=100),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.text(max_size=20), max_size=5),
    st.tuples(st.text(max_size=30), st.text(max_size=100)),
)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.text(max_size=70), meta_values, max_size=8), meta_values)
def test_any_meta_writes_a_valid_product(tmp_path: Path, meta: dict[str, Any], targname: Any) -> None:
    lc = make_lightcurve(4, meta={**meta, "TARGNAME": targname, "EXPSTART": EXPSTART})
    path = tmp_path / "h.fits"
    write_lightcurve(lc, path, overwrite=True)
    with fits.open(path) as hdul:
        hdul.verify("exception")
        assert [h.name for h in hdul] == ["PRIMARY", "LIGHTCURVE"]
    back = read_lightcurve(path)
    assert_columns_equal(lc, back)
    assert back.meta["MJDREF"] == EXPSTART
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.fits"]
