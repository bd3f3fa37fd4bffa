"""Products a user can rely on (issue 13, items 1–4): the FLUX unit follows FLUXCAL, NET has an error
(NET_ERROR), standard readers (astropy TimeSeries/QTable, lightkurve) open the files, and the time
keywords come from the data (not from calcos' stale EXPEND)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits
from astropy.table import QTable, Table
from astropy.time import Time
from astropy.timeseries import TimeSeries
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hstlc
from hstlc.domain import LIGHTCURVE_COLUMNS, LightCurve
from hstlc.extraction import ExtractionParams, extract_file, make_composite
from hstlc.products import (
    FLUX_UNIT,
    UNCALIBRATED_FLUX_UNIT,
    flux_is_calibrated,
    flux_unit,
    net_error,
    read_lightcurve,
    read_timeseries,
    to_lightkurve,
    write_lightcurve,
)
from hstlc.science.binning import exposure_grid
from hstlc.synthetic import make_cos_fuv

CT_PER_S = u.ct / u.s
# What calcos 3.3.4 did to a real exposure (FORMATS.md §9): GTI START 0.032 s, last GTI STOP 1116.192 s,
# EXPEND - EXPSTART left at 1116.0003 s.
REAL_EXPSTART = 57800.125
REAL_GTI = [[0.032, 600.0], [640.0, 1116.192]]
REAL_EXPEND = REAL_EXPSTART + 1116.0003 / 86400.0


def _lightkurve() -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lightkurve warns at import about optional modules it lacks
            import lightkurve
    except ImportError:  # pragma: no cover - lightkurve is in the test extra
        pytest.skip("lightkurve is not installed (pip install 'hstlc[lightkurve]')")
    return lightkurve


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("standard")
    ref = d / "lref"
    calibrated = make_cos_fuv(d / "cal", rootname="lb4m01aaq", reference_dir=ref, exptime=300.0, seed=1)
    plain_a = make_cos_fuv(d / "plain", rootname="lb4m02abq", expstart=55500.0, exptime=300.0, seed=2)
    plain_b = make_cos_fuv(d / "plain", rootname="lb4m03acq", expstart=55510.0, exptime=200.0, seed=3)
    trimmed = make_cos_fuv(
        d / "trimmed",
        rootname="ldm601aaq",
        expstart=REAL_EXPSTART,
        exptime=1116.192,
        gti=REAL_GTI,
        events_header={"EXPEND": REAL_EXPEND},
        seed=4,
    )
    params = ExtractionParams(step=2.0)
    out = d / "out"
    products = {
        "calibrated": write_lightcurve(
            extract_file(calibrated.event_files[0], params, lref_dir=ref), out / "lb4m01aaq_curve.fits"
        ),
        "uncalibrated": write_lightcurve(
            extract_file(plain_a.event_files[0], params), out / "lb4m02abq_curve.fits"
        ),
        "composite": write_lightcurve(
            make_composite([plain_a.event_files[0], plain_b.event_files[0]], ExtractionParams(step=5.0)),
            out / "uncalibrated_composite.fits",
        ),
        "calibrated_composite": write_lightcurve(
            make_composite([calibrated.event_files[0]], ExtractionParams(step=5.0), lref_dir=ref),
            out / "calibrated_composite.fits",
        ),
        "trimmed": write_lightcurve(
            extract_file(trimmed.event_files[0], params), out / "ldm601aaq_curve.fits"
        ),
    }
    return products


def _columns(path: Path) -> dict[str, np.ndarray]:
    with fits.open(path) as hdul:
        table = hdul["LIGHTCURVE"].data
        return {name: np.array(table[name]) for name in table.columns.names}


# ------------------------------------------------------------------- 1. the FLUX unit follows FLUXCAL


@pytest.mark.parametrize("kind", ["uncalibrated", "composite"])
def test_uncalibrated_flux_is_counts_per_second_per_pixel(data: dict[str, Path], kind: str) -> None:
    path = data[kind]
    with fits.open(path) as hdul:
        primary, ext = hdul[0].header, hdul[1].header
        units = {c.name: c.unit for c in hdul[1].columns}
    assert primary["FLUXCAL"] == "UNCALIBRATED" and ext["FLUXCAL"] == "UNCALIBRATED"
    for value in (units["FLUX"], units["FLUX_ERROR"], ext["BUNIT"]):
        assert u.Unit(value, format="fits") == u.ct / u.s / u.pix, value
    table = QTable.read(path)
    assert table["FLUX"].unit == UNCALIBRATED_FLUX_UNIT and table["FLUX_ERROR"].unit == UNCALIBRATED_FLUX_UNIT
    assert not table["FLUX"].unit.is_equivalent(FLUX_UNIT)
    # what the unit says is what the numbers are: unity sensitivity, FLUX = NET / NPIXEL per dataset
    lc = read_lightcurve(path)
    npixel = lc.meta.get("NPIXEL")
    if npixel is not None:  # an individual product
        np.testing.assert_allclose(lc.flux * npixel, lc.net, rtol=1e-12)


@pytest.mark.parametrize("kind", ["calibrated", "calibrated_composite"])
def test_calibrated_flux_stays_erg(data: dict[str, Path], kind: str) -> None:
    with fits.open(data[kind]) as hdul:
        assert hdul[0].header["FLUXCAL"] == "CALIBRATED"
        assert u.Unit(hdul[1].header["BUNIT"], format="fits") == FLUX_UNIT
    table = QTable.read(data[kind])
    assert table["FLUX"].unit == FLUX_UNIT and table["FLUX_ERROR"].unit == FLUX_UNIT


def test_flux_is_calibrated_rules() -> None:
    assert flux_is_calibrated({}) is True  # the original products: no FLUXCAL, erg claimed
    assert flux_is_calibrated({"FLUXCAL": "CALIBRATED"}) is True
    assert flux_is_calibrated({"FLUXCAL": ("calibrated ", "a comment")}) is True
    assert flux_is_calibrated({"FLUXCAL": "UNCALIBRATED"}) is False
    assert flux_is_calibrated({"FLUXCAL": "MULTI"}) is False
    assert flux_is_calibrated({"FLUXCAL": ["CALIBRATED", "CALIBRATED", "CALIBRATED"]}) is True
    assert flux_is_calibrated({"FLUXCAL": ["CALIBRATED", "UNCALIBRATED", "CALIBRATED"]}) is False
    assert flux_unit({"FLUXCAL": "UNCALIBRATED"}) == UNCALIBRATED_FLUX_UNIT
    assert flux_unit({"FLUXCAL": "CALIBRATED"}) == FLUX_UNIT


# ------------------------------------------------------------------------------- 2. NET_ERROR (ct/s)


def _toy(n: int = 6, *, bins: np.ndarray | None = None, meta: dict[str, Any] | None = None) -> LightCurve:
    times = np.arange(n, dtype=np.float64) * 10.0
    exposure = np.full(n, 10.0) if bins is None else bins
    gross = np.linspace(50.0, 80.0, n)
    background = np.full(n, 2.0)
    counts = gross - background
    error = np.sqrt(gross + background)
    with np.errstate(divide="ignore", invalid="ignore"):
        net = np.where(exposure > 0, counts / np.where(exposure > 0, exposure, 1.0), 0.0)
    return LightCurve(
        times=times,
        mjd=56000.0 + times / 86400.0,
        bins=exposure,
        gross=gross,
        background=background,
        counts=counts,
        net=net,
        error=error,
        flux=net * 1e-15,
        flux_error=error * 1e-16,
        signal_to_noise=counts / error,
        dataset=np.ones(n, dtype=np.int32),
        meta={"EXPSTART": 56000.0, "STEPSIZE": 10.0, "FLUXCAL": "CALIBRATED"} if meta is None else meta,
    )


@pytest.mark.parametrize("kind", ["calibrated", "uncalibrated", "composite"])
def test_net_error_is_error_over_bins_in_counts_per_second(data: dict[str, Path], kind: str) -> None:
    cols = _columns(data[kind])
    np.testing.assert_allclose(cols["NET_ERROR"], cols["ERROR"] / cols["BINS"], rtol=1e-15)
    with fits.open(data[kind]) as hdul:
        names = hdul[1].columns.names
        units = {c.name: c.unit for c in hdul[1].columns}
    assert names.index("NET_ERROR") == names.index("NET") + 1
    assert u.Unit(units["NET_ERROR"], format="fits") == CT_PER_S
    assert u.Unit(units["ERROR"], format="fits") == u.ct  # ERROR unchanged
    table = QTable.read(data[kind])
    assert table["NET_ERROR"].unit == table["NET"].unit == CT_PER_S


def test_net_error_is_nan_without_exposure(tmp_path: Path) -> None:
    bins = np.array([10.0, 0.0, 10.0, 4.0, 10.0, 10.0])
    path = write_lightcurve(_toy(bins=bins), tmp_path / "zero_curve.fits")
    cols = _columns(path)
    assert np.isnan(cols["NET_ERROR"][1])
    keep = bins > 0
    np.testing.assert_array_equal(cols["NET_ERROR"][keep], cols["ERROR"][keep] / bins[keep])
    np.testing.assert_array_equal(net_error([1.0, 2.0, 3.0], [0.0, -1.0, np.nan]), [np.nan] * 3)


def test_net_error_round_trips(data: dict[str, Path], tmp_path: Path) -> None:
    original = _columns(data["uncalibrated"])
    lc = read_lightcurve(data["uncalibrated"])
    assert isinstance(lc, LightCurve)  # the domain type, unchanged
    np.testing.assert_array_equal(net_error(lc.error, lc.bins), original["NET_ERROR"])
    again = _columns(write_lightcurve(lc, tmp_path / "again_curve.fits"))
    np.testing.assert_array_equal(again["NET_ERROR"], original["NET_ERROR"])
    series = read_timeseries(data["uncalibrated"])
    np.testing.assert_array_equal(series["net_error"].value, original["NET_ERROR"])
    assert series["net_error"].unit == CT_PER_S


def test_products_without_net_error_still_read(tmp_path: Path) -> None:
    lc = _toy()
    # as the original pipeline (and hstlc before NET_ERROR) wrote them: no NET_ERROR, no TUNIT
    cols = [
        fits.Column(name=name, format="D", array=np.asarray(getattr(lc, name), dtype=np.float64))
        for name in ("dataset", "times", "mjd", "bins", "gross", "background", "flux", "counts", "error",
                     "flux_error", "net", "signal_to_noise")
    ]  # fmt: skip
    path = tmp_path / "old_curve.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(path)
    back = read_lightcurve(path)
    np.testing.assert_array_equal(back.error, lc.error)
    series = read_timeseries(path)
    np.testing.assert_allclose(series["net_error"].value, lc.error / lc.bins, rtol=1e-15)
    assert series["net_error"].unit == CT_PER_S and series["net"].unit == CT_PER_S
    np.testing.assert_allclose(series.time.mjd, lc.mjd, rtol=0, atol=1e-9)


# ------------------------------------------------------------------------------ 3. standard readers

PRODUCT_UNITS = {
    "TIMES": u.s,
    "MJD": u.d,
    "BINS": u.s,
    "GROSS": u.ct,
    "BACKGROUND": u.ct,
    "COUNTS": u.ct,
    "NET": CT_PER_S,
    "NET_ERROR": CT_PER_S,
    "ERROR": u.ct,
}


@pytest.mark.parametrize("kind", ["calibrated", "uncalibrated", "composite", "calibrated_composite"])
def test_astropy_timeseries_read_without_arguments(data: dict[str, Path], kind: str) -> None:
    path = data[kind]
    series = TimeSeries.read(path)  # no format, no time_column
    cols = _columns(path)
    assert isinstance(series.time, Time) and series.time.scale == "utc"
    assert len(series) == len(cols["MJD"]) > 0
    # the time axis is the bin starts (TIMEPIXR = 0), to a microsecond
    np.testing.assert_allclose((series.time - Time(cols["MJD"], format="mjd", scale="utc")).to_value(u.s),
                               0.0, atol=1e-6)  # fmt: skip
    header = fits.getheader(path, "LIGHTCURVE")
    relative = Time(header["MJDREF"], format="mjd", scale="utc") + cols["TIMES"] * u.s
    np.testing.assert_allclose((series.time - relative).to_value(u.s), 0.0, atol=1e-5)
    for name, unit in PRODUCT_UNITS.items():
        assert series[name].unit == unit, name
        np.testing.assert_array_equal(series[name].value, cols[name], err_msg=name)
    expected_flux = FLUX_UNIT if kind in ("calibrated", "calibrated_composite") else UNCALIBRATED_FLUX_UNIT
    assert series["FLUX"].unit == expected_flux and series["FLUX_ERROR"].unit == expected_flux
    np.testing.assert_array_equal(series["FLUX"].value, cols["FLUX"])
    assert series.meta["FLUXCAL"] == fits.getheader(path)["FLUXCAL"]


def test_fits_time_columns_follow_the_standard(data: dict[str, Path]) -> None:
    path = data["composite"]
    with fits.open(path) as hdul:
        header = hdul[1].header
        names = hdul[1].columns.names
    i_time, i_times = names.index("time") + 1, names.index("TIMES") + 1
    assert header[f"TCTYP{i_time}"] == "UTC"
    assert header[f"TCTYP{i_times}"] == "UTC" and header[f"TCUNI{i_times}"] == "s"
    assert header["TIMESYS"] == "UTC" and header["TIMEUNIT"] == "s" and "MJDREF" in header
    # a FITS-time aware reader turns both into the same instants
    native = Table.read(path, astropy_native=True)
    assert isinstance(native["time"], Time) and isinstance(native["TIMES"], Time)
    np.testing.assert_allclose((native["time"] - native["TIMES"]).to_value(u.s), 0.0, atol=1e-5)
    np.testing.assert_allclose(native["TIMES"].mjd, _columns(path)["MJD"], rtol=0, atol=1e-9)
    # read back by hstlc, the column keywords do not leak into meta
    assert not any(k.startswith(("TCTYP", "TCUNI")) for k in read_lightcurve(path).meta)


@pytest.mark.parametrize("kind", ["calibrated", "composite"])
def test_qtable_read_gives_quantities(data: dict[str, Path], kind: str) -> None:
    table = QTable.read(data[kind])
    cols = _columns(data[kind])
    for name, unit in PRODUCT_UNITS.items():
        assert table[name].unit == unit, name
        np.testing.assert_array_equal(table[name].value, cols[name])
    assert table["SIGNAL_TO_NOISE"].unit is None or table["SIGNAL_TO_NOISE"].unit == u.dimensionless_unscaled


@pytest.mark.parametrize("kind", ["calibrated", "uncalibrated", "composite"])
def test_read_timeseries(data: dict[str, Path], kind: str) -> None:
    series = hstlc.read_timeseries(data[kind])
    assert isinstance(series, TimeSeries)
    lc = read_lightcurve(data[kind])
    np.testing.assert_allclose(series.time.mjd, lc.mjd, rtol=0, atol=1e-9)
    for name in (c for c in LIGHTCURVE_COLUMNS if c not in ("signal_to_noise", "dataset")):
        np.testing.assert_array_equal(series[name].value, getattr(lc, name), err_msg=name)
        assert series[name].unit == PRODUCT_UNITS.get(name.upper(), flux_unit(lc.meta)), name
    np.testing.assert_array_equal(series["dataset"], lc.dataset)
    assert series.meta["FLUXCAL"] == lc.meta["FLUXCAL"]


@pytest.mark.slow
def test_to_lightkurve_calibrated_uses_flux(data: dict[str, Path]) -> None:
    lk = _lightkurve()
    curve = hstlc.to_lightkurve(data["calibrated"])
    assert isinstance(curve, lk.LightCurve)
    lc = read_lightcurve(data["calibrated"])
    assert curve.flux.unit == FLUX_UNIT and curve.flux_err.unit == FLUX_UNIT
    np.testing.assert_array_equal(curve.flux.value, lc.flux)
    np.testing.assert_array_equal(curve.flux_err.value, lc.flux_error)
    np.testing.assert_allclose(curve.time.mjd, lc.mjd, rtol=0, atol=1e-9)
    assert curve["net"].unit == CT_PER_S and curve["net_error"].unit == CT_PER_S
    assert curve["bins"].unit == u.s and curve["gross"].unit == u.ct
    assert curve.meta["FLUX_ORIGIN"] == "flux" and curve.meta["LABEL"] == lc.meta["TARGNAME"]


@pytest.mark.parametrize("kind", ["uncalibrated", "composite"])
def test_to_lightkurve_uncalibrated_uses_net_rate(data: dict[str, Path], kind: str) -> None:
    _lightkurve()
    lc = read_lightcurve(data[kind])
    for source in (data[kind], TimeSeries.read(data[kind]), read_timeseries(data[kind]), lc):
        curve = to_lightkurve(source)
        assert curve.flux.unit == CT_PER_S and curve.flux_err.unit == CT_PER_S
        np.testing.assert_array_equal(curve.flux.value, lc.net)
        np.testing.assert_allclose(curve.flux_err.value, lc.error / lc.bins, rtol=1e-15)
        np.testing.assert_allclose(curve.time.mjd, lc.mjd, rtol=0, atol=1e-9)
        assert curve.meta["FLUX_ORIGIN"] == "net"
    # lightkurve's own tools work on it
    folded = to_lightkurve(data[kind]).normalize()
    assert np.isfinite(np.nanmedian(folded.flux.value))


def test_to_lightkurve_judges_a_table_without_fluxcal_by_its_unit(data: dict[str, Path]) -> None:
    _lightkurve()
    series = TimeSeries.read(data["uncalibrated"])
    del series.meta["FLUXCAL"]
    assert to_lightkurve(series).meta["FLUX_ORIGIN"] == "net"
    series = TimeSeries.read(data["calibrated"])
    del series.meta["FLUXCAL"]
    assert to_lightkurve(series).flux.unit == FLUX_UNIT


# -------------------------------------------------------------------- 4. time keywords from the data


def test_time_keywords_from_the_last_bin_not_expend(data: dict[str, Path]) -> None:
    path = data["trimmed"]
    lc = read_lightcurve(path)
    assert lc.meta["EXPEND"] == pytest.approx(REAL_EXPEND)  # calcos' stale value is kept as it was
    assert lc.times[0] == 0.0 and lc.bins[0] == pytest.approx(2.0 - 0.032)  # the first GTI starts at 0.032
    last_end = lc.times[-1] + lc.bins[-1]
    assert last_end == pytest.approx(1116.192, abs=1e-9)  # the partial last bin ends at the last GTI stop
    with fits.open(path) as hdul:
        for header in (hdul[0].header, hdul[1].header):
            assert header["MJDREF"] == REAL_EXPSTART
            assert header["TSTART"] == 0.0
            assert header["TSTOP"] == pytest.approx(1116.192, abs=1e-9)  # beyond EXPEND (1116.0003 s)
            assert header["TELAPSE"] == pytest.approx(1116.192, abs=1e-9)
            assert header["XPOSURE"] == pytest.approx(float(np.sum(lc.bins)), rel=1e-12)
            assert header["XPOSURE"] == pytest.approx(1116.192 - 0.032 - 40.0, abs=1e-9)
            assert header["XPOSURE"] <= header["TELAPSE"]
            assert header["MJD-END"] == pytest.approx(REAL_EXPSTART + 1116.192 / 86400, abs=1e-11)
            end = Time(header["DATE-END"], format="isot", scale="utc")
            assert (end - Time(REAL_EXPSTART, format="mjd", scale="utc")).to_value(u.s) == pytest.approx(
                1116.192, abs=1e-3
            )
        # the EXPTIME the docstring promises: the summed exposure
        assert hdul[0].header["EXPTIME"] == hdul[0].header["XPOSURE"]


@pytest.mark.parametrize("kind", ["calibrated", "uncalibrated", "composite", "trimmed"])
def test_exptime_is_the_summed_exposure(data: dict[str, Path], kind: str) -> None:
    primary = fits.getheader(data[kind])
    assert primary["EXPTIME"] == pytest.approx(float(np.sum(_columns(data[kind])["BINS"])), rel=1e-12)
    assert primary["XPOSURE"] <= primary["TELAPSE"]


@pytest.mark.parametrize("kind", ["calibrated", "composite"])
def test_headers_say_times_are_not_barycentred(data: dict[str, Path], kind: str) -> None:
    with fits.open(data[kind]) as hdul:
        for header in (hdul[0].header, hdul[1].header):
            assert header["TIMEREF"] == "LOCAL" and header["TREFPOS"] == "TOPOCENTER"
            assert "not barycentred" in header.comments["TREFPOS"]
            assert any("not barycentred" in str(c) for c in header["COMMENT"])


@st.composite
def _gti_and_expend(draw: st.DrawFn) -> tuple[np.ndarray, float, float]:
    n = draw(st.integers(1, 5))
    edges = sorted(draw(st.lists(st.floats(0.0, 3000.0), min_size=2 * n, max_size=2 * n, unique=True)))
    gti = np.array(edges, dtype=np.float64).reshape(n, 2)
    gti = gti[gti[:, 1] - gti[:, 0] > 1e-3]
    if len(gti) == 0:
        gti = np.array([[0.032, 10.0]])
    step = draw(st.sampled_from([0.5, 1.0, 2.0, 7.0, 30.0]))
    # calcos' EXPEND: anywhere up to (and often a little before) the last GTI stop
    expend = float(gti[-1, 1]) - draw(st.floats(0.0, 5.0))
    return gti, step, expend


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_gti_and_expend())
def test_xposure_never_exceeds_telapse(tmp_path: Path, case: tuple[np.ndarray, float, float]) -> None:
    gti, step, expend = case
    edges, exposure = exposure_grid(gti, step)
    keep = exposure > 0
    times, bins = edges[:-1][keep], exposure[keep]
    n = len(times)
    lc = LightCurve(
        times=times,
        mjd=56000.0 + times / 86400.0,
        bins=bins,
        gross=np.ones(n),
        background=np.zeros(n),
        counts=np.ones(n),
        net=1.0 / bins,
        error=np.ones(n),
        flux=np.ones(n),
        flux_error=np.ones(n),
        signal_to_noise=np.ones(n),
        dataset=np.ones(n, dtype=np.int32),
        meta={"EXPSTART": 56000.0, "EXPEND": 56000.0 + expend / 86400.0, "STEPSIZE": step},
    )
    path = write_lightcurve(lc, tmp_path / "h.fits", overwrite=True)
    header = fits.getheader(path, 1)
    assert header["XPOSURE"] <= header["TELAPSE"]
    assert header["XPOSURE"] == pytest.approx(float(np.sum(gti[:, 1] - gti[:, 0])), rel=1e-9, abs=1e-9)
    assert header["TSTART"] == times[0]
    stop = float(gti[-1, 1])
    assert header["TSTOP"] <= stop + 1e-9  # never beyond the data, whatever EXPEND says
    if gti[-1, 0] <= times[-1]:  # the last GTI covers the last bin's start: TSTOP is its stop exactly
        assert header["TSTOP"] == pytest.approx(stop, abs=1e-9)
