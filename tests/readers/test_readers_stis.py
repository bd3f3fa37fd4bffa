"""STIS tag reading and calibration, the synthetic STIS corrtag writer and reader.

``hstlc.synthetic`` has no STIS generator yet, so these tests write a small STIS ``_tag`` / ``_x1d`` and
reference set themselves, in the formats of FORMATS.md §3–§5, with values chosen so every calibration
step has a hand-computable answer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from hstlc.errors import FilingError, InputFileError
from hstlc.readers import ProductKind, detect_product, read_dataset, read_event_times, read_observation
from hstlc.readers.reftables import read_bpixtab, read_phottab
from hstlc.stis_corrtag import write_stis_corrtag

TICK = 0.000125


def _table(cols, name, header=None):
    hdu = fits.BinTableHDU.from_columns(cols, name=name)
    for k, v in (header or {}).items():
        hdu.header[k] = v
    return hdu


def make_stis(directory: Path, *, opt_elem: str = "G140L", obstype: str = "SPECTROSCOPIC", x1d: bool = True,
              lflat: bool = True, n: int = 400, seed: int = 0) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    oref = directory / "oref"
    oref.mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    # P-flat 1024² of 0.8 and a coarse L-flat of 1.25 (→ epsilon 1.0)
    pflat = np.full((1024, 1024), 0.8, dtype=np.float32)
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(pflat, name="SCI"),
                  fits.ImageHDU(np.zeros_like(pflat), name="ERR"),
                  fits.ImageHDU(np.zeros((1024, 1024), np.int16), name="DQ")]).writeto(oref / "p_pfl.fits")
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.full((70, 90), 1.25, np.float32), name="SCI")]).writeto(
        oref / "l_lfl.fits")
    _bpix = [fits.Column("PIX1", "I", array=[5, 5]), fits.Column("PIX2", "I", array=[10, 20]),
             fits.Column("LENGTH", "I", array=[1, 1]), fits.Column("AXIS", "I", array=[1, 1]),
             fits.Column("VALUE", "I", array=[16, 1024]),
             fits.Column("OPT_ELEM", "8A", array=[opt_elem, "G230L"])]
    fits.HDUList([fits.PrimaryHDU(), _table(_bpix, "BPIX", {"SIZAXIS1": 1024, "SIZAXIS2": 1024})]).writeto(
        oref / "b_bpx.fits")
    _phot = [fits.Column("OPT_ELEM", "8A", array=[opt_elem]), fits.Column("CENWAVE", "J", array=[1425]),
             fits.Column("SPORDER", "I", array=[1]), fits.Column("NELEM", "J", array=[3]),
             fits.Column("WAVELENGTH", "4D", array=[[1100.0, 1400.0, 1700.0, 0.0]]),
             fits.Column("THROUGHPUT", "4E", array=[[0.01, 0.02, 0.01, 0.0]]),
             fits.Column("ERROR", "4E", array=[[0.0, 0.0, 0.0, 0.0]])]
    fits.HDUList([fits.PrimaryHDU(), _table(_phot, "PHOT")]).writeto(oref / "ph_pht.fits")

    primary = fits.PrimaryHDU()
    for k, v in dict(TELESCOP="HST", INSTRUME="STIS", DETECTOR="FUV-MAMA", OBSTYPE=obstype,
                     OBSMODE="TIME-TAG",
                     OPT_ELEM=opt_elem, CENWAVE=1425, APERTURE="52X0.2", TARGNAME="STIS-STAR", RA_TARG=10.0,
                     DEC_TARG=-5.0, EQUINOX=2000.0, PROPOSID=8000, ROOTNAME="O8K401010", CAL_VER="3.4",
                     PFLTFILE="oref$p_pfl.fits", LFLTFILE="oref$l_lfl.fits" if lflat else "N/A",
                     BPIXTAB="oref$b_bpx.fits", PHOTTAB="oref$ph_pht.fits", TEXPSTRT=51000.5,
                     TEXPTIME=100.0).items():
        primary.header[k] = v
    times = np.sort(rng.integers(0, 100 / TICK, n)) * TICK
    axis1 = rng.integers(1, 2049, n).astype(np.int16)
    axis2 = rng.integers(380, 420, n).astype(np.int16)
    axis1[:4] = [9, 10, 11, 2048]   # low-res column 4, 4, 5, 1023
    axis2[:4] = [19, 20, 19, 400]   # low-res row 9, 9, 9, 199
    ticks = np.round(times / TICK).astype(np.int32)
    cols = [fits.Column("TIME", "1J", unit="s", array=ticks),
            fits.Column("AXIS1", "1I", array=axis1), fits.Column("AXIS2", "1I", array=axis2),
            fits.Column("DETAXIS1", "1I", array=axis1 + 1)]
    events = _table(cols, "EVENTS", {"EXPSTART": 51000.5, "EXPEND": 51000.5 + 100 / 86400, "EXPTIME": 100.0,
                                     "EXPFLAG": "NORMAL"})
    gti = _table([fits.Column("START", "D", array=[0.0]), fits.Column("STOP", "D", array=[100.0])], "GTI")
    tag = directory / "o8k401010_tag.fits"
    fits.HDUList([primary, events, gti]).writeto(tag)
    with fits.open(tag, mode="update") as hdul:  # integer 125-µs ticks scaled to seconds, as in real tags
        hdul["EVENTS"].header.insert("TFORM1", ("TSCAL1", TICK), after=True)
        hdul["EVENTS"].header.insert("TSCAL1", ("TZERO1", 0.0), after=True)
    out = {"tag": tag, "oref": oref}
    if x1d:
        norders = 2 if opt_elem.startswith("E") else 1
        wave = np.vstack([1000.0 + np.arange(1024) + 2000 * k for k in range(norders)])
        a2c = [200.0, 180.0][:norders]
        cols = [fits.Column("SPORDER", "I", array=[1, 2][:norders] if norders == 2 else [1]),
                fits.Column("NELEM", "I", array=[1024] * norders),
                fits.Column("WAVELENGTH", "1024D", array=wave),
                fits.Column("A2CENTER", "E", array=a2c), fits.Column("EXTRSIZE", "E", array=[7.0] * norders),
                fits.Column("BK1SIZE", "E", array=[5.0] * norders),
                fits.Column("BK2SIZE", "E", array=[5.0] * norders),
                fits.Column("BK1OFFST", "E", array=[-30.0] * norders),
                fits.Column("BK2OFFST", "E", array=[30.0] * norders)]
        x1d_path = directory / "o8k401010_x1d.fits"
        fits.HDUList([fits.PrimaryHDU(header=primary.header.copy()), _table(cols, "SCI")]).writeto(x1d_path)
        out["x1d"] = x1d_path
    return out


def test_detect_and_observation(tmp_path: Path) -> None:
    files = make_stis(tmp_path)
    assert detect_product(files["tag"]) is ProductKind.STIS_TAG
    assert detect_product(files["x1d"]) is ProductKind.STIS_X1D
    obs = read_observation(files["tag"])
    assert (obs.instrume, obs.detector, obs.fppos, obs.segment) == ("STIS", "FUV-MAMA", 0, "")
    assert obs.rootname == "o8k401010" and obs.cenwave == 1425 and obs.proposid == 8000
    _, times = read_event_times(files["tag"])
    assert times.dtype == np.float64 and np.all(np.diff(times) >= 0) and times.max() <= 100.0


def test_first_order_calibration(tmp_path: Path) -> None:
    files = make_stis(tmp_path)
    ds = read_dataset(files["tag"], oref_dir=files["oref"])
    (seg,) = ds.segments
    ev = seg.events
    assert seg.name == "STIS" and len(ev) == 400
    np.testing.assert_allclose(ev.epsilon, 1.0 / (0.8 * 1.25), rtol=1e-6)
    # BPIXTAB: (PIX1=5, PIX2=10) → low-res col 4, row 9 flagged 16 for this grating; the G230L row ignored.
    assert ev.dq[:4].tolist() == [16, 16, 0, 0]
    assert not np.any(ev.dq & 1024)
    # wavelength of low-res column (AXIS1-1)//2
    assert ev.wavelength[:4].tolist() == [1004.0, 1004.0, 1005.0, 2023.0]
    assert ds.extras["calibration_applied"] == ("pflat", "lflat", "bpixtab", "wavelength")
    assert ds.extras["x1d"] == str(files["x1d"])
    (order,) = ds.extras["orders"]
    assert order["sporder"] == 1 and order["a2center"] == 200.0 and order["extrsize"] == 7.0
    assert order["bk1offst"] == -30.0 and len(order["wavelength"]) == 1024
    assert ds.extras["phottab"] == str((files["oref"] / "ph_pht.fits").absolute())
    np.testing.assert_allclose(seg.gti, [[0.0, 100.0]])
    assert set(ds.files) == {str(files["tag"]), str(files["x1d"])}


def test_echelle_orders(tmp_path: Path) -> None:
    files = make_stis(tmp_path, opt_elem="E140M")
    ev = read_dataset(files["tag"], oref_dir=files["oref"]).segments[0].events
    pos = (ev.y.astype(float) + 0.5) / 2
    in0 = np.abs(pos - 200.0) <= 3.5
    in1 = np.abs(pos - 180.0) <= 3.5
    col = (ev.x.astype(int) - 1) // 2
    np.testing.assert_array_equal(ev.wavelength[in0], 1000.0 + col[in0])
    np.testing.assert_array_equal(ev.wavelength[in1], 3000.0 + col[in1])
    assert np.all(ev.wavelength[~in0 & ~in1] == 0.0)


def test_missing_lflat_and_missing_reference_dir(tmp_path: Path) -> None:
    files = make_stis(tmp_path, lflat=False)
    ds = read_dataset(files["tag"], oref_dir=files["oref"])
    np.testing.assert_allclose(ds.segments[0].events.epsilon, 1.0 / 0.8, rtol=1e-6)
    assert "no L-flat: EPSILON from the P-flat only" in ds.extras["calibration_notes"]
    bare = read_dataset(files["tag"])  # no oref dir, no $oref: nothing applied, and said so
    assert np.all(bare.segments[0].events.epsilon == 1.0)
    assert any("PFLTFILE" in n and "$oref" in n for n in bare.extras["calibration_notes"])


def test_tag_without_x1d_is_an_error_unless_imaging(tmp_path: Path) -> None:
    files = make_stis(tmp_path / "s", x1d=False)
    with pytest.raises(InputFileError,
                       match=r"^o8k401010_tag.fits: STIS tag without its x1d \(o8k401010_x1d.fits\)"):
        read_dataset(files["tag"])
    img = make_stis(tmp_path / "i", x1d=False, obstype="IMAGING")
    ds = read_dataset(img["tag"], oref_dir=img["oref"])
    assert np.all(ds.segments[0].events.wavelength == 0.0) and ds.observation.cenwave == 0


def test_reference_table_readers(tmp_path: Path) -> None:
    files = make_stis(tmp_path)
    bpix = read_bpixtab(files["oref"] / "b_bpx.fits")
    assert bpix.shape == (1024, 1024) and len(bpix.for_opt_elem("g140l").pix1) == 1
    phot = read_phottab(files["oref"] / "ph_pht.fits")
    (row,) = phot.match(opt_elem="G140L", cenwave=1425, sporder=1)
    assert row.wavelength.tolist() == [1100.0, 1400.0, 1700.0] and len(row.throughput) == 3


def test_corrtag_writer_round_trip(tmp_path: Path) -> None:
    files = make_stis(tmp_path)
    tag_bytes = files["tag"].read_bytes()
    out = write_stis_corrtag(files["tag"], oref_dir=files["oref"])
    assert out == tmp_path / "o8k401010_corrtag.fits"
    assert files["tag"].read_bytes() == tag_bytes  # the _tag is kept untouched
    with fits.open(out) as hdul:
        names = [c.name for c in hdul["EVENTS"].columns]
        assert names == ["time", "rawx", "rawy", "xcorr", "ycorr", "epsilon", "wavelength", "dq"]
        assert [c.format for c in hdul["EVENTS"].columns] == ["D"] * 7 + ["I"]
        assert "GTI" in hdul and hdul["EVENTS"].header["EXPTIME"] == 100.0
        assert hdul[0].header["HSTLCCAL"] == "pflat,lflat,bpixtab,wavelength"
        assert hdul[0].header["SRCFILE"] == "o8k401010_tag.fits"
    assert detect_product(out) is ProductKind.STIS_CORRTAG
    direct = read_dataset(files["tag"], oref_dir=files["oref"])
    again = read_dataset(out, oref_dir=files["oref"])
    for name in ("time", "x", "y", "wavelength", "epsilon", "dq"):
        np.testing.assert_allclose(getattr(again.segments[0].events, name),
                                   getattr(direct.segments[0].events, name), rtol=1e-6)
    np.testing.assert_allclose(again.segments[0].gti, direct.segments[0].gti)
    assert again.extras["orders"][0]["a2center"] == 200.0
    assert again.extras["calibration_applied"] == ("pflat", "lflat", "bpixtab", "wavelength")
    # Re-running with the same inputs is a no-op; a different existing file is never overwritten.
    assert write_stis_corrtag(files["tag"], oref_dir=files["oref"]) == out
    with pytest.raises(FilingError, match="a different file already exists"):
        write_stis_corrtag(files["tag"])  # without flats the content differs
    assert write_stis_corrtag(files["tag"], overwrite=True) == out
    assert not list(tmp_path.glob(".hstlc-tmp-*"))


def test_check_and_x1d_reader_on_stis(tmp_path: Path) -> None:
    from hstlc.config import load_settings
    from hstlc.file_checks import check_dataset
    from hstlc.readers.x1d import read_x1d

    files = make_stis(tmp_path)
    settings = load_settings(overrides={"home_dir": tmp_path / "home"}).settings
    outcome = check_dataset(files["tag"], settings)
    assert outcome.ok and outcome.files == (files["tag"], files["x1d"])
    spectrum = read_x1d(files["x1d"])
    assert spectrum.instrume == "STIS" and len(spectrum.rows) == 1
    assert spectrum.rows[0]["SPORDER"] == 1 and spectrum.rows[0]["WAVELENGTH"].shape == (1024,)
