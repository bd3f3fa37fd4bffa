"""Binary-table columns: the direct reader gives exactly what astropy gives, and hands anything it does
not read itself (scaled, logical, string, bit, variable-length, multi-dimensional, empty) to astropy."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from hstlc.readers.hdus import _direct_columns, column_names, find_hdu, open_fits, read_columns
from hstlc.readers.reftables import clear_cache, read_fluxtab


def _astropy(path: Path, extname: str, name: str) -> np.ndarray:
    with fits.open(path) as hdul:
        value = np.asarray(hdul[extname].data.field(name))
        return np.array(value, dtype=value.dtype.newbyteorder("="), copy=True)


@pytest.fixture(scope="module")
def table_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(5)
    n = 1000
    columns = [
        fits.Column(name="Time", format="D", array=np.cumsum(rng.random(n))),
        fits.Column(name="RAWX", format="I", array=rng.integers(-30000, 30000, n).astype(np.int16)),
        fits.Column(name="FLAGS", format="B", array=rng.integers(0, 255, n).astype(np.uint8)),
        fits.Column(name="COUNT", format="J", array=rng.integers(-2**31, 2**31 - 1, n).astype(np.int32)),
        fits.Column(name="BIG", format="K", array=rng.integers(-2**62, 2**62, n)),
        fits.Column(name="XCORR", format="E", array=rng.normal(size=n).astype(np.float32)),
        fits.Column(name="NAME", format="5A", array=np.array([f"r{i}" for i in range(n)])),
        fits.Column(name="OK", format="L", array=rng.random(n) > 0.5),
        fits.Column(name="BITS", format="12X", array=rng.integers(0, 2, (n, 12)).astype(bool)),
        fits.Column(name="SPEC", format="3D", array=rng.normal(size=(n, 3))),
        fits.Column(name="TICKS", format="J", array=np.arange(n, dtype=np.int32)),  # TSCAL added below
        fits.Column(name="UNSIGNED", format="I", bzero=32768, array=np.arange(n, dtype=np.uint16) * 60),
        fits.Column(name="CUBE", format="6E", dim="(3,2)",
                    array=rng.normal(size=(n, 2, 3)).astype(np.float32)),
        fits.Column(name="VAR", format="PD()",
                    array=np.array([np.arange(i % 4, dtype=float) for i in range(n)], dtype=object)),
    ]
    hdu = fits.BinTableHDU.from_columns(columns, name="EVENTS")
    path = tmp_path_factory.mktemp("columns") / "table.fits"
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)
    with fits.open(path, mode="update") as hdul:  # integer clock ticks scaled to seconds (STIS TIME)
        number = [c.name for c in hdul["EVENTS"].columns].index("TICKS") + 1
        hdul["EVENTS"].header[f"TSCAL{number}"] = 0.000125
    return path


DIRECT = ["TIME", "RAWX", "FLAGS", "COUNT", "BIG", "XCORR", "SPEC"]
GENERAL = ["NAME", "OK", "BITS", "TICKS", "UNSIGNED", "CUBE"]


def test_direct_reader_equals_astropy(table_file: Path) -> None:
    with open_fits(table_file) as hdul:
        events = find_hdu(hdul, "EVENTS")
        direct = _direct_columns(table_file, events, DIRECT)
        assert direct is not None
        for name in DIRECT:
            expected = _astropy(table_file, "EVENTS", name)
            assert direct[name].dtype == expected.dtype, name
            assert direct[name].shape == expected.shape, name
            assert direct[name].flags.c_contiguous and direct[name].flags.writeable
            np.testing.assert_array_equal(direct[name], expected, err_msg=name)


@pytest.mark.parametrize("name", GENERAL)
def test_other_columns_go_to_astropy_with_the_same_result(table_file: Path, name: str) -> None:
    with open_fits(table_file) as hdul:
        events = find_hdu(hdul, "EVENTS")
        assert _direct_columns(table_file, events, ["TIME", name]) is None
        got = read_columns(table_file, events, ["time", name.lower()])
    expected = _astropy(table_file, "EVENTS", name)
    assert got[name].dtype == expected.dtype
    np.testing.assert_array_equal(got[name], expected)
    np.testing.assert_array_equal(got["TIME"], _astropy(table_file, "EVENTS", "Time"))


def test_column_names_from_the_header_keep_the_written_case(table_file: Path) -> None:
    with open_fits(table_file) as hdul:
        names = column_names(find_hdu(hdul, "EVENTS"))
    assert names["TIME"] == "Time"
    assert list(names) == [c.upper() for c in ("Time", *DIRECT[1:6], *GENERAL[:2], "BITS", "SPEC", "TICKS",
                                               "UNSIGNED", "CUBE", "VAR")]


def test_empty_table_reads_as_empty_arrays(tmp_path: Path) -> None:
    hdu = fits.BinTableHDU.from_columns([fits.Column(name="TIME", format="E", array=np.zeros(0, np.float32))],
                                        name="EVENTS")
    path = tmp_path / "empty.fits"
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)
    with open_fits(path) as hdul:
        got = read_columns(path, find_hdu(hdul, "EVENTS"), ["TIME"])
    assert got["TIME"].shape == (0,)


def test_header_that_does_not_add_up_is_left_to_astropy(table_file: Path, tmp_path: Path) -> None:
    # NAXIS1 disagreeing with the TFORMs: the direct reader declines rather than guess the layout.
    with open_fits(table_file) as hdul:
        events = find_hdu(hdul, "EVENTS")
        events.header["TFORM2"] = "J"
        assert _direct_columns(table_file, events, ["TIME"]) is None


def test_reference_tables_are_cached_until_the_file_changes(tmp_path: Path) -> None:
    def write(scale: float) -> None:
        cols = [
            fits.Column(name="SEGMENT", format="4A", array=np.array(["FUVA"])),
            fits.Column(name="OPT_ELEM", format="5A", array=np.array(["G130M"])),
            fits.Column(name="CENWAVE", format="J", array=np.array([1291])),
            fits.Column(name="APERTURE", format="3A", array=np.array(["PSA"])),
            fits.Column(name="WAVELENGTH", format="3D", array=np.array([[1100.0, 1200.0, 1300.0]])),
            fits.Column(name="SENSITIVITY", format="3E", array=np.array([[1.0, 2.0, 3.0]]) * scale),
        ]
        fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(path, overwrite=True)

    path = tmp_path / "x_phot.fits"
    clear_cache()
    write(1.0)
    first = read_fluxtab(path)
    assert read_fluxtab(path) is first  # parsed once
    assert not first.rows[0].sensitivity.flags.writeable  # shared, so read-only
    write(10.0)  # rewritten: read again (the times are set apart explicitly, as a later edit would be)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = read_fluxtab(path)
    assert second is not first
    assert second.rows[0].sensitivity[0] == pytest.approx(10.0)
    assert first.match(segment="FUVA", opt_elem="G130M", cenwave=1291, aperture="PSA") == first.rows
